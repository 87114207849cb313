"""Back-off between attempts to reach Placement: growing, capped, jittered,
bounded in time for ``--once``, honouring ``Retry-After``; and the spread
start of a daemon."""
import datetime
import email.utils

import pytest

from cyborg_agent import retry
from cyborg_placement import error_body


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


def test_a_requested_wait_is_honoured_spread_and_capped():
    low = retry.Backoff(base=1.0, cap=8.0, rand=lambda: 0.0)
    high = retry.Backoff(base=1.0, cap=8.0, rand=lambda: 1.0)
    assert low.next_delay(at_least=3) == 3
    assert high.next_delay(at_least=3) == 4.5
    # Longer than the back-off would wait: never past the cap (and half).
    assert low.next_delay(at_least=3600) == 8
    assert high.next_delay(at_least=3600) == 12
    # Shorter than the back-off: the back-off wins.
    assert high.next_delay(at_least=0.1) == 4


def test_until_waits_what_the_failure_asks_for():
    class Busy(Exception):
        retry_after = 2.0

    slept, attempts = [], []

    def attempt():
        attempts.append(1)
        if len(attempts) == 1:
            raise Busy('429')
        return 'done'

    assert retry.until(60, retry.Backoff(base=0.1, rand=lambda: 0.0),
                       attempt, Busy, sleep=slept.append) == 'done'
    assert slept == [2.0]


def test_start_delay_is_within_one_interval_and_zero_turns_it_off():
    assert retry.start_delay(60, 300, rand=lambda: 1.0) == 60
    assert retry.start_delay(60, 10, rand=lambda: 1.0) == 10
    assert retry.start_delay(60, 10, rand=lambda: 0.5) == 5
    assert retry.start_delay(0, 10, rand=lambda: 1.0) == 0


@pytest.mark.parametrize('header, expected', [
    ('5', 5.0), (' 0 ', 0.0), ('-3', 0.0), ('soon', None), ('', None),
    ('Wed, 21 Oct 2015 07:28:00 GMT', None),  # in the past
])
def test_retry_after_header_is_seconds_or_a_date(header, expected):
    assert error_body.retry_after({'Retry-After': header}) == expected


def test_retry_after_as_a_future_date():
    later = email.utils.format_datetime(
        datetime.datetime.now(datetime.UTC)
        + datetime.timedelta(seconds=120), usegmt=True)
    assert 100 < error_body.retry_after({'Retry-After': later}) <= 120
    assert error_body.retry_after({}) is None
