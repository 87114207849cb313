"""The per-host agent: discovers accelerators and publishes them into Placement."""
# The shared package first: its warning filter must be in place before
# oslo.privsep imports eventlet.
import cyborg_placement  # noqa: F401
