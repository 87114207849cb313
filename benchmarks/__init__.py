"""Scripts that print figures; the results are recorded in docs/benchmarks-*.md.

A package so that one script can share a part with another
(``benchmarks/fleet.py`` and ``fleet_scheduling.py``).
"""
