"""Development tools; :mod:`tools.harness` holds what tests, the demo and
benchmarks share."""
