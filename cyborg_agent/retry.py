"""Back-off with jitter for calls to a service that may be away or busy.

Many agents lose Placement at the same moment (a restart, a network cut) and
many start at the same moment (a fleet rebooted or upgraded at once): jitter
spreads their first cycles and their returns so Placement is not hit by all
of them at once. A service that says how long to wait (``Retry-After`` on a
429 or a 503) is believed, up to the back-off's cap.
"""
import random
import time


class Backoff:
    """Exponential delays with equal jitter: half fixed, half random."""

    def __init__(self, base: float = 1.0, cap: float = 60.0,
                 rand=random.random) -> None:
        self.base = base
        self.cap = cap
        self._rand = rand
        self.failures = 0

    def next_delay(self, at_least: float | None = None) -> float:
        """The next wait; ``at_least``: what the service asked for.

        A requested wait is honoured up to ``cap`` and spread over half of
        itself again, so agents told the same ``Retry-After`` do not all
        come back in the same second.
        """
        ceiling = min(self.cap, self.base * 2 ** self.failures)
        self.failures += 1
        delay = ceiling / 2 + self._rand() * ceiling / 2
        if at_least:
            asked = min(self.cap, at_least)
            delay = max(delay, asked + self._rand() * asked / 2)
        return delay

    def reset(self) -> None:
        self.failures = 0


def start_delay(fuzzy_delay: float, interval: float,
                rand=random.random) -> float:
    """A random wait before a periodic task's first run.

    Within one interval at most: that is enough to spread a fleet's cycles
    evenly, and keeps the first publication of a single host prompt.
    """
    return rand() * min(fuzzy_delay, interval)


def asked_delay(exc: BaseException) -> float | None:
    """The wait a failure's service asked for (``Retry-After``), if any."""
    return getattr(exc, 'retry_after', None)


def until(deadline_seconds: float, backoff: Backoff, attempt, retryable,
          on_retry=None, sleep=time.sleep):
    """Call ``attempt()`` until it succeeds or ``deadline_seconds`` pass.

    Exceptions of the ``retryable`` types are retried after a back-off delay
    while time remains; the last one is raised. Others propagate at once.
    """
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            return attempt()
        except retryable as exc:
            delay = backoff.next_delay(asked_delay(exc))
            if time.monotonic() + delay > deadline:
                raise
            if on_retry is not None:
                on_retry(exc, delay)
            sleep(delay)
