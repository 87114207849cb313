"""Back-off with jitter for calls to a service that may be away.

Many agents lose Placement at the same moment (a restart, a network cut);
jitter spreads their returns so Placement is not hit by all of them at once.
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

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** self.failures)
        self.failures += 1
        return ceiling / 2 + self._rand() * ceiling / 2

    def reset(self) -> None:
        self.failures = 0


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
            delay = backoff.next_delay()
            if time.monotonic() + delay > deadline:
                raise
            if on_retry is not None:
                on_retry(exc, delay)
            sleep(delay)
