"""A test hook: make a process die at a named step, as a kill would.

Crash-safety tests run the real agent or the real API with ``CYBORG_CRASH_AT``
set to one of :data:`POINTS` and restart it afterwards; the process then has
to finish or roll back what it found half done. This module is the one place
that reads the variable; it imports nothing of ours, so the agent and the API
both use it. Unset (the normal case), :func:`reached` does nothing.
"""
import os

ENV = 'CYBORG_CRASH_AT'

POINTS = (
    # The API's attach flow: after the ``attaching`` record, after the claim.
    'after_record', 'after_claim',
    # The host reconciler: between the API's claim and the host action,
    # between the host action and the report of ``attached``, in the middle
    # of a detach (the host half restored).
    'before_action', 'after_action', 'during_detach',
)

#: The status the process dies with, as after ``kill -9`` seen by a shell.
EXIT_STATUS = 137


def reached(point: str) -> None:
    """Exit at once, without cleanup, when the test hook names ``point``."""
    if os.environ.get(ENV) == point:
        os._exit(EXIT_STATUS)
