"""A test hook: make the agent die at a named step, as a kill would.

Crash-safety tests run the real agent with ``CYBORG_AGENT_CRASH_AT`` set to
one of :data:`POINTS` and restart it afterwards; the agent then has to finish
or roll back what it found half done. This module is the one place that reads
the variable. Unset (the normal case), :func:`reached` does nothing.
"""
import os

ENV = 'CYBORG_AGENT_CRASH_AT'

#: Between the API's claim and the host action (the attachment is
#: ``attaching``, the host untouched); between the host action and the report
#: of ``attached``; in the middle of a detach (the host half restored).
POINTS = ('before_action', 'after_action', 'during_detach')

#: The status the process dies with, as after ``kill -9`` seen by a shell.
EXIT_STATUS = 137


def reached(point: str) -> None:
    """Exit at once, without cleanup, when the test hook names ``point``."""
    if os.environ.get(ENV) == point:
        os._exit(EXIT_STATUS)
