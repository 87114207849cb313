"""Wait for a condition, never for a fixed time.

A test or a tool that waits for something to happen polls for exactly that
thing: it goes on as soon as it holds, and when it never does the failure
names what was awaited, instead of an assertion failing later on a state that
was merely not reached yet.
"""
from collections.abc import Callable
import time
from typing import TypeVar

T = TypeVar('T')


class TimedOut(AssertionError):
    """The awaited condition did not hold in time (a test failure)."""


def wait_for(predicate: Callable[[], T], timeout: float, what: str, *,
             interval: float = 0.1,
             ignoring: tuple[type[BaseException], ...] = ()) -> T:
    """Poll ``predicate`` until it returns something true, and return that.

    ``ignoring`` lists exceptions that mean "not yet" (a server still
    starting); any other exception ends the wait at once. Raises
    :class:`TimedOut` naming ``what`` (and the last ignored error) once
    ``timeout`` seconds have passed.
    """
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            result = predicate()
        except ignoring as exc:
            last_error = exc
        else:
            if result:
                return result
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    detail = f'; last error: {last_error!r}' if last_error else ''
    raise TimedOut(f'timed out after {timeout:.1f}s waiting for {what}'
                   f'{detail}')
