"""Accelerators in OpenStack Placement: the API service and shared know-how."""
import warnings

# oslo.messaging (through oslo.service) and oslo.privsep import eventlet where
# it is installed (beside Nova), which warns on stderr at import. Nothing of
# ours runs on eventlet (our RPC server and senders are threads), and stderr
# is kept for errors. The agent imports this package first for the same reason.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
