"""What a restart of the real ``cyborg-agent`` costs Placement, counted at a
proxy in front of the real Placement: with ``[agent] save_published_state``
an unchanged host is one listing, a host whose pool was allocated meanwhile
that listing plus a read of that pool (an allocation, an operator's trait);
a corrupt file or none, a read of every provider."""
import json
import uuid

import pytest

from cyborg_agent.publish import pools
from tests.functional.compute_nodes import create_compute_node
from tests.functional.test_daemon import _once
from tests.functional.test_daemon import _sysfs
from tests.functional.test_daemon import _write_conf
from tools.harness import catalog
from tools.harness.counting_proxy import CountingProxy

GPU_POOL = '_GPU_10DE_2330'


@pytest.fixture
def proxy(placement_server):
    proxy = CountingProxy(placement_server.url).start()
    yield proxy
    proxy.stop()


def _host(placement, proxy, tmp_path, name, **agent):
    create_compute_node(placement, name)
    conf = _write_conf(tmp_path, proxy.url, debug=True,
                       resource_provider_name=name,
                       state_dir=tmp_path / 'state',
                       sysfs_root=_sysfs(tmp_path, catalog.gpu_server()),
                       **agent)
    first = _once(conf)
    assert first.returncode == 0, first.stderr
    proxy.clear()
    return conf


def _again(conf, proxy) -> str:
    result = _once(conf)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_restart_of_an_unchanged_host_is_one_listing(
        placement, proxy, tmp_path, unique_name):
    conf = _host(placement, proxy, tmp_path, unique_name)
    root = placement.get_provider_by_name(unique_name)['uuid']

    log = _again(conf, proxy)

    assert proxy.seen == [('GET', f'/resource_providers?in_tree={root}')]
    assert "Placement: 1 read(s), 0 write(s)" in log


def test_restart_after_an_allocation_reads_that_pool_only(
        placement, proxy, tmp_path, unique_name):
    conf = _host(placement, proxy, tmp_path, unique_name)
    pool = pools.provider_uuid(unique_name + GPU_POOL)
    placement.put(f'/allocations/{uuid.uuid4()}', {
        'allocations': {pool: {'resources': {'PGPU': 1}}},
        'project_id': str(uuid.uuid4()), 'user_id': str(uuid.uuid4()),
        'consumer_generation': None, 'consumer_type': 'INSTANCE'})

    _again(conf, proxy)

    assert (proxy.reads, proxy.writes) == (3, 0)
    assert {path.split('?')[0] for _, path in proxy.seen[1:]} == {
        f'/resource_providers/{pool}/traits',
        f'/resource_providers/{pool}/inventories'}


def test_restart_after_an_operator_trait_reads_that_pool_and_keeps_it(
        placement, proxy, tmp_path, unique_name):
    conf = _host(placement, proxy, tmp_path, unique_name)
    pool = pools.provider_uuid(unique_name + GPU_POOL)
    placement.ensure_traits(['CUSTOM_RACK_A'])
    traits = placement.get(f'/resource_providers/{pool}/traits')
    placement.put(f'/resource_providers/{pool}/traits', {
        'resource_provider_generation': traits['resource_provider_generation'],
        'traits': traits['traits'] + ['CUSTOM_RACK_A']})

    _again(conf, proxy)

    assert (proxy.reads, proxy.writes) == (3, 0)
    assert 'CUSTOM_RACK_A' in placement.get(
        f'/resource_providers/{pool}/traits')['traits']


def test_restart_with_a_corrupt_state_file_reads_everything_and_says_so(
        placement, proxy, tmp_path, unique_name):
    conf = _host(placement, proxy, tmp_path, unique_name)
    (saved,) = (tmp_path / 'state' / 'published').glob('placement-*.json')
    saved.write_bytes(b'\x00' * 16)

    log = _again(conf, proxy)

    assert 'Ignoring saved state' in log and 'Traceback' not in log
    # Root by name, the tree, traits and inventories of both pools.
    assert (proxy.reads, proxy.writes) == (6, 0)
    assert json.loads(saved.read_text())['root_name'] == unique_name


def test_without_saved_state_a_restart_reads_every_provider(
        placement, proxy, tmp_path, unique_name):
    conf = _host(placement, proxy, tmp_path, unique_name,
                 save_published_state='false')

    _again(conf, proxy)

    assert (proxy.reads, proxy.writes) == (6, 0)
    # Nothing of what was published; the health memory is always kept.
    assert [p.name for p in (tmp_path / 'state' / 'published').iterdir()
            ] == [f'health-{unique_name}.json']
