"""Back-off between attempts to reach Placement: growing, capped, jittered,
and bounded in time for ``--once``."""
import pytest

from cyborg_agent import retry


def test_delays_grow_to_the_cap_with_jitter():
    low = retry.Backoff(base=1.0, cap=8.0, rand=lambda: 0.0)
    high = retry.Backoff(base=1.0, cap=8.0, rand=lambda: 1.0)
    assert [low.next_delay() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    assert [high.next_delay() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    high.reset()
    assert high.next_delay() == 1


def test_until_retries_transient_errors_then_succeeds():
    attempts, slept = [], []

    def attempt():
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError('down')
        return 'done'

    result = retry.until(60, retry.Backoff(base=0.1, rand=lambda: 0.0),
                         attempt, ConnectionError, sleep=slept.append)
    assert result == 'done'
    assert slept == [0.05, 0.1]


def test_until_gives_up_when_the_next_delay_passes_the_deadline():
    slept = []

    def attempt():
        raise ConnectionError('down')

    with pytest.raises(ConnectionError):
        retry.until(1.0, retry.Backoff(base=0.4, rand=lambda: 1.0), attempt,
                    ConnectionError, sleep=slept.append)
    assert slept == [0.4, 0.8]  # then 1.6 would end past the deadline


def test_until_does_not_retry_other_errors():
    slept = []

    def attempt():
        raise ValueError('bad rule')

    with pytest.raises(ValueError):
        retry.until(60, retry.Backoff(), attempt, ConnectionError,
                    sleep=slept.append)
    assert slept == []
