"""The per-host agent: discovers accelerators and publishes them into Placement."""
