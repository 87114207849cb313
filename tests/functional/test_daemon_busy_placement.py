"""A busy Placement (429/503 from it or the rate limiter in front of it) is
waited for as it asks, with jitter, by the real ``cyborg-agent``; and a daemon
started with a fleet waits a random part of its interval before its first
cycle. Placement here sits behind a proxy that counts and refuses requests."""
import re

import pytest

from tests.functional.compute_nodes import children
from tests.functional.compute_nodes import create_compute_node
from tests.functional.test_daemon import _once
from tests.functional.test_daemon import _sysfs
from tests.functional.test_daemon import _write_conf
from tools.harness import catalog
from tools.harness import waiting
from tools.harness.agent_host import Daemon
from tools.harness.counting_proxy import CountingProxy


@pytest.fixture
def proxy(placement_server):
    proxy = CountingProxy(placement_server.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def host(placement, proxy, tmp_path, unique_name):
    node = create_compute_node(placement, unique_name)
    conf = _write_conf(tmp_path, proxy.url, debug=True,
                       resource_provider_name=unique_name,
                       state_dir=tmp_path / 'state',
                       sysfs_root=_sysfs(tmp_path, catalog.gpu_server()))
    return node, conf


def _waits(log: str, prefix: str) -> list[float]:
    return [float(s) for s in re.findall(prefix + r' in (\d+\.\d)s', log)]


def test_once_waits_as_a_busy_placement_asks_and_then_publishes(
        placement, proxy, host):
    node, conf = host
    proxy.refuse_next(2, status=429, retry_after='1')

    result = _once(conf)

    assert result.returncode == 0, result.stderr
    assert proxy.refused[429] == 2
    waits = _waits(result.stderr, 'Retrying')
    assert len(waits) == 2 and all(1.0 <= w <= 1.5 for w in waits), waits
    assert len(children(placement, node)) == 2


def test_once_gives_up_after_its_short_budget_with_one_line(
        placement, proxy, host):
    node, conf = host
    proxy.refuse_next(100, status=503, retry_after='1')

    result = _once(conf)

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines()
              if line.startswith('cyborg-agent: error:')]
    assert len(errors) == 1 and ': 503' in errors[0], result.stderr
    assert 'Traceback' not in result.stderr
    # A few tries within --once's budget, not a hundred.
    assert 2 <= proxy.refused[503] <= 6
    assert children(placement, node) == {}


def test_daemon_spreads_its_start_and_honours_retry_after(
        placement, proxy, host, tmp_path):
    node, conf = host
    with open(conf, 'a') as stream:
        stream.write('report_interval = 1\nperiodic_fuzzy_delay = 60\n')
    proxy.refuse_next(1, status=429, retry_after='3')
    daemon = Daemon(conf, tmp_path / 'agent.log')
    try:
        waiting.wait_for(lambda: len(children(placement, node)) == 2, 90,
                         'publication after the refusal')
    finally:
        assert daemon.stop() == 0
    log = daemon.stderr()
    # The first cycle waited a random part of one report_interval.
    (first,) = _waits(log, 'every 1s, first')
    assert 0.0 <= first <= 1.0
    # Told to come back in 3 s: at least that, at most half again.
    (retry,) = _waits(log, 'Cycle failed, retrying')
    assert 3.0 <= retry <= 4.5, log
    assert proxy.refused[429] == 1 and 'Traceback' not in log
