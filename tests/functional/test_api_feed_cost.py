"""What the reconciler's feed read costs Placement, counted by a proxy in
front of the real Placement that a real ``cyborg-api`` talks to.

Every reconcile pass of every host reads its feed, so its Placement reads
are the API's share of Placement's load (docs/benchmarks-fleet.md): each
pool where the API holds claims or bindings is read once, whatever repairs
the read serves (the sweep of API claims, the release of stale bindings).
"""
import pytest

from tests.inprocess import scenario
from tools.harness.api_server import ApiServer
from tools.harness.counting_proxy import CountingProxy


@pytest.fixture(scope='module')
def proxy(placement_server):
    proxy = CountingProxy(placement_server.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope='module')
def api(proxy, tmp_path_factory):
    server = ApiServer.on_sqlite(tmp_path_factory.mktemp('feed-cost'),
                                 proxy.url)
    server.start()
    yield server
    server.stop()


def test_a_feed_read_reads_each_held_pool_once(api, proxy, placement,
                                               unique_name):
    """Two pools, each with a binding (Nova's allocation) and a host attach
    (the API's claim): two reads of pool allocations, nothing else."""
    host = scenario.gpu_and_fpga_host(placement, unique_name)
    service = api.client(token='agent', roles='service')
    admin = api.client()
    reported = service.put(f'/hosts/{unique_name}/accelerators',
                           json=host['report'])
    assert reported.status_code == 200, reported.text
    instance = scenario.schedule_gpu_and_fpga(placement, host)
    bound = service.put(f'/instances/{instance}/bindings',
                        json={'host': unique_name}).json()['bindings']
    assert len(bound) == 2
    for unit in reported.json()['accelerators']:
        if unit['uuid'] not in {b['uuid'] for b in bound}:
            attached = admin.put(f'/accelerators/{unit["uuid"]}',
                                 json={'host': unique_name})
            assert attached.status_code == 200, attached.text
    proxy.clear()

    feed = service.get(f'/hosts/{unique_name}/attachments')

    assert feed.status_code == 200, feed.text
    assert len(feed.json()['attachments']) == 2
    assert sorted(proxy.seen) == sorted(
        ('GET', f'/resource_providers/{pool}/allocations')
        for pool in (host['pool'], host['fpga_pool']))
