"""Twenty hosts of the real agent against one Placement and one API.

The fleet simulator of ``benchmarks/fleet.py`` (``tools/harness/fleet.py``)
with a small fleet: its request counts are what the design promises (the
fewest calls for a first publication, one read and no write in a steady
cycle), every host's pools are in Placement exactly once, and clients racing
for the same accelerators never get one unit twice. Counts, never times.
"""
import collections
import uuid

import pytest

from cyborg_placement.placement.client import PlacementClient
from tools.harness import fleet
from tools.harness import ini
from tools.harness.api_server import ApiServer
from tools.harness.counting_proxy import CountingProxy

HOSTS = 20
#: Hosts whose accelerators clients race for (two per pool, two clients
#: per accelerator). Hosts with no attachment yet: the first attachments of
#: several hosts at once are what deadlocked on MariaDB.
RACE_HOSTS = 5


@pytest.fixture(scope='module')
def placement(placement_server, tmp_path_factory) -> PlacementClient:
    workdir = tmp_path_factory.mktemp('fleet-admin')
    return PlacementClient.from_conf(ini.cyborg_conf(
        workdir / 'cyborg.conf',
        {'placement': ini.token_auth(placement_server.url)}))


@pytest.fixture(scope='module')
def api_placement(placement_server) -> CountingProxy:
    """The API's own way to Placement, counted."""
    proxy = CountingProxy(placement_server.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope='module', params=['sqlite', 'postgresql', 'mysql'])
def api_server(request, api_placement, tmp_path_factory) -> ApiServer:
    """``cyborg-api`` with several workers on each database clouds use."""
    workdir = tmp_path_factory.mktemp(f'fleet-api-{request.param}')
    url = (f'sqlite:///{workdir}/cyborg.sqlite' if request.param == 'sqlite'
           else request.getfixturevalue(f'{request.param}_url'))
    server = ApiServer(workdir, url, api_placement.url, workers=4)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def run(placement_server, api_server, api_placement, placement,
        tmp_path_factory):
    """The fleet's phases, run once per API database."""
    hosts = fleet.Fleet(tmp_path_factory.mktemp('fleet'), HOSTS,
                        placement_server.url, api_server.url,
                        prefix=f'fleet-{uuid.uuid4().hex[:6]}',
                        api_placement=api_placement)
    hosts.create_compute_nodes(placement)
    _make_custom_names(placement, hosts)
    hosts.start_agents()
    phases = {'first': hosts.run(fleet.cycle),
              'steady': hosts.run(fleet.cycle)}
    phases['reconcile'] = hosts.run(fleet.reconcile)
    hosts.start_agents()
    phases['restart'] = hosts.run(fleet.cycle)
    return hosts, phases


def _make_custom_names(placement, hosts: fleet.Fleet) -> None:
    """The fleet's custom traits and classes exist, as once its first host
    made them (or an earlier fleet did): the session's Placement may or may
    not have them yet. How an agent makes them on a Placement without them:
    tests/inprocess/test_publish_sync.py."""
    pools = [p for h in hosts.hosts for p in h.pools.values()]
    placement.ensure_traits(set().union(*(p.traits for p in pools)))
    for name in {p.resource_class for p in pools}:
        if name.startswith('CUSTOM_'):
            placement.ensure_resource_class(name)


def first_cycle_requests(host: fleet.Host) -> int:
    """docs/placement-sync.md: find the root, list its tree, then per pool
    create it, set its traits, set its inventory. The custom names exist:
    nothing else."""
    return 2 + 3 * len(host.pools)


def test_the_fleet_has_all_three_kinds_of_hosts(run):
    hosts, _ = run
    assert collections.Counter(h.mix for h in hosts.hosts) == {
        'gpu8': 9, 'gpu4-qat2x16': 9, 'fpga2-ai2': 2}


def test_every_cycle_of_every_host_succeeded(run):
    _, phases = run
    assert {name: phase.failures for name, phase in phases.items()} == {
        name: [] for name in phases}


def test_every_host_published_each_pool_once(run, placement):
    hosts, _ = run
    for host in hosts.hosts:
        listed = placement.providers_in_tree(host.root_uuid)
        children = collections.Counter(
            p['name'] for p in listed if p['uuid'] != host.root_uuid)
        wanted = host.pools
        assert children == {p.name: 1 for p in wanted.values()}, host.name
        for pool in wanted.values():
            inventories = placement.get(
                f'/resource_providers/{pool.uuid}/inventories')
            assert inventories['inventories'][pool.resource_class][
                'total'] == pool.total


def test_no_provider_of_the_fleet_is_duplicated_or_lost(run, placement):
    hosts, _ = run
    prefix = hosts.hosts[0].name.rsplit('-', 1)[0]
    names = collections.Counter(
        p['name'] for p in placement.get(
            '/resource_providers')['resource_providers']
        if p['name'].startswith(prefix))
    wanted = {h.name for h in hosts.hosts} | {
        p.name for h in hosts.hosts for p in h.pools.values()}
    assert names == {name: 1 for name in wanted}


def test_first_cycle_sends_the_fewest_requests_the_design_allows(run):
    """To the API: the device report, and the host's feed read once by a
    new agent process, whose publication needs the disabled and held
    units before its reconcile loop has read them."""
    hosts, phases = run
    first = phases['first']
    assert first.per_host('placement') == {
        h.name: first_cycle_requests(h) for h in hosts.hosts}
    assert first.per_host('api') == {h.name: 2 for h in hosts.hosts}
    assert {(c.method, c.path.split('/')[-1]) for c in first.of('api')} == {
        ('GET', 'attachments'), ('PUT', 'accelerators')}


def test_steady_cycle_is_one_read_and_no_write(run):
    """And no device report: it says what the last accepted one said."""
    hosts, phases = run
    steady = phases['steady']
    assert steady.per_host('placement') == {h.name: 1 for h in hosts.hosts}
    assert steady.per_host('api') == {h.name: 0 for h in hosts.hosts}
    assert steady.per_host('placement', writes_only=True) == {
        h.name: 0 for h in hosts.hosts}
    assert {(c.method, c.path) for c in steady.of('placement')} == {
        ('GET', '/resource_providers')}


def test_idle_reconcile_pass_is_one_api_read_and_nothing_in_placement(run):
    """No attachment anywhere: the API's feed has nothing to repair."""
    hosts, phases = run
    reconcile = phases['reconcile']
    assert reconcile.per_host('api') == {h.name: 1 for h in hosts.hosts}
    assert reconcile.per_host('placement') == {h.name: 0 for h in hosts.hosts}
    assert reconcile.api_placement == []


def test_restarted_fleet_costs_one_listing_per_host(run):
    """``[agent] save_published_state``: what the last process published is
    trusted while Placement's listing shows the same generations."""
    hosts, phases = run
    restart = phases['restart']
    assert restart.per_host('placement') == {h.name: 1 for h in hosts.hosts}
    # No device report; the new process's one read of the host's feed.
    assert restart.per_host('api') == {h.name: 1 for h in hosts.hosts}
    assert {(c.method, c.path.split('/')[-1]) for c in restart.of('api')} == {
        ('GET', 'attachments')}
    assert {(c.method, c.path) for c in restart.of('placement')} == {
        ('GET', '/resource_providers')}


def test_concurrent_attaches_never_bind_a_unit_twice(run, api_server,
                                                     placement):
    hosts, _ = run
    gpu_hosts = [h for h in hosts.hosts if h.mix == 'gpu8']
    racing = gpu_hosts[:RACE_HOSTS]
    targets = [accelerator for host in racing
               for accelerator in fleet.accelerators_of(
                   api_server.url, host.name)[:2]]
    results = fleet.attach_race(api_server.url, targets * 2)

    won = collections.Counter(r.accelerator for r in results
                              if r.status == 200)
    assert sorted(r.status for r in results) == (
        [200] * len(targets) + [409] * len(targets))
    assert won == {t['uuid']: 1 for t in targets}
    held, pools = fleet.holders(api_server.url, placement, targets)
    assert held == {t['uuid']: 1 for t in targets}
    assert pools == {pool: (2, 2) for pool in pools}
    assert len(pools) == RACE_HOSTS

    reconciled = hosts.run(fleet.reconcile, racing)
    assert reconciled.failures == []
    # The feed reads the consumers of each pool the API claimed on, once.
    assert sorted(reconciled.api_placement) == sorted(
        ('GET', f'/resource_providers/{pool}/allocations') for pool in pools)
    states = {a['uuid']: a['attachment']['state']
              for host in racing
              for a in fleet.accelerators_of(api_server.url, host.name)
              if a['attachment']}
    assert states == {t['uuid']: 'attached' for t in targets}
