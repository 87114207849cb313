"""Accelerators in OpenStack Placement: the API service and shared know-how."""
import warnings

# oslo.messaging (and oslo.versionedobjects through it) imports oslo.service,
# whose default backend imports eventlet, which warns on stderr at import.
# Nothing of ours runs on eventlet: our RPC server and senders are threads.
warnings.filterwarnings('ignore', message='\nEventlet is deprecated')
