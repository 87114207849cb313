"""The per-host agent: discovers accelerators and publishes them into Placement."""
import warnings

# oslo.privsep imports eventlet where it is installed (beside Nova), only to
# undo a monkey-patching the agent never does; eventlet's deprecation warning
# would otherwise open every run's stderr, which commands keep for errors.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
