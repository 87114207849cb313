"""Publishing discovered hosts into a real Placement: the first cycle creates
pool providers under the compute node, later cycles send only differences."""
import dataclasses
import logging
import uuid

import pytest

from cyborg_agent.publish import pools
from cyborg_agent.publish import sync as placement_sync
from cyborg_placement.placement.client import PlacementClient
from tests.functional.compute_nodes import BeforeWrite
from tests.functional.compute_nodes import children
from tests.functional.compute_nodes import create_compute_node
from tests.functional.compute_nodes import root_snapshot
from tests.functional.compute_nodes import units_from
from tools.harness import catalog

GPU_POOL = '_GPU_10DE_2330'
QAT_POOL = '_CRYPTO_8086_4941'


@pytest.fixture
def host(placement, unique_name):
    node = create_compute_node(placement, unique_name)
    placement.counts.clear()
    return unique_name, node


def _sync(placement, name, **kwargs):
    return placement_sync.ProviderSync(placement, name, **kwargs)


def test_gpu_server_becomes_two_pools_under_the_compute_node(
        placement, host, tmp_path):
    name, node = host
    before = root_snapshot(placement, node)
    units = units_from(tmp_path, catalog.gpu_server(gpus=8, qat_vfs=16))

    published = _sync(placement, name).sync(units)

    tree = children(placement, node)
    assert set(tree) == {name + GPU_POOL, name + QAT_POOL}
    gpus, qat = tree[name + GPU_POOL], tree[name + QAT_POOL]
    assert gpus['uuid'] == pools.provider_uuid(name + GPU_POOL)
    assert gpus['parent_provider_uuid'] == node
    assert gpus['inventories']['PGPU']['total'] == 8
    assert gpus['inventories']['PGPU']['max_unit'] == 8
    assert gpus['traits'] == {
        'OWNER_CYBORG', 'CUSTOM_ACCEL_GPU', 'CUSTOM_ACCEL_VENDOR_10DE',
        'CUSTOM_ACCEL_PRODUCT_10DE_2330'}
    # Two QAT PFs with 16 VFs each: 32 interchangeable units, one provider.
    assert qat['inventories']['CUSTOM_ACCEL_CRYPTO']['total'] == 32
    assert 'CUSTOM_ACCEL_PRODUCT_8086_4941' in qat['traits']
    assert set(published) == {gpus['uuid'], qat['uuid']}
    assert root_snapshot(placement, node) == before


def test_first_cycle_costs_calls_per_pool_and_steady_cycle_one_read(
        placement, host, tmp_path, unique_name):
    """On a Placement that has none of the custom names yet, one write is
    refused, then they are made; a host that finds them made sends the
    fewest calls Placement allows."""
    name, _ = host
    units = units_from(tmp_path, catalog.gpu_server())
    agent = _sync(placement, name)
    agent.sync(units)
    # Root lookup and tree; per pool: create, traits, inventory. Before
    # them: the first pool's traits refused (400), one read of the 6
    # custom traits, a PUT of each and of the 1 custom class.
    assert dict(placement.counts) == {'GET': 2 + 1, 'POST': 2,
                                      'PUT': 4 + 1 + 6 + 1}

    placement.counts.clear()
    agent.sync(units)
    assert dict(placement.counts) == {'GET': 1}

    # Four times the QAT VFs on another host: the same two pools, with the
    # names made: root lookup, tree, and per pool create, traits, inventory.
    bigger = units_from(tmp_path, catalog.gpu_server(qat_pfs=4, qat_vfs=16))
    assert len(bigger) == len(units) + 32
    create_compute_node(placement, unique_name + '-big')
    placement.counts.clear()
    _sync(placement, unique_name + '-big').sync(bigger)
    assert dict(placement.counts) == {'GET': 2, 'POST': 2, 'PUT': 4}


def test_a_fresh_process_reads_first_and_writes_nothing(
        placement, host, tmp_path):
    name, _ = host
    units = units_from(tmp_path, catalog.gpu_server())
    _sync(placement, name).sync(units)

    placement.counts.clear()
    _sync(placement, name).sync(units)
    assert placement.writes == 0
    # root by name, the tree, then traits and inventories of our two pools.
    assert placement.counts['GET'] == 6


def test_removed_device_pool_is_deleted_and_others_untouched(
        placement, host, tmp_path, caplog):
    name, node = host
    agent = _sync(placement, name)
    agent.sync(units_from(tmp_path, catalog.gpu_server(gpus=4)))
    gpu_generation = children(placement, node)[name + GPU_POOL]['generation']

    caplog.set_level(logging.INFO)
    agent.sync(units_from(tmp_path, catalog.gpu_server(gpus=4, qat_pfs=0)))

    tree = children(placement, node)
    assert set(tree) == {name + GPU_POOL}
    assert tree[name + GPU_POOL]['generation'] == gpu_generation
    assert f'Removed resource provider {name + QAT_POOL}' in caplog.text


def test_removed_devices_still_allocated_stay_reserved_until_released(
        placement, host, tmp_path, caplog):
    name, node = host
    agent = _sync(placement, name)
    agent.sync(units_from(tmp_path, catalog.gpu_server(gpus=8, qat_pfs=0)))
    pool = pools.provider_uuid(name + GPU_POOL)
    consumer = _allocate(placement, pool, 'PGPU', 3)

    # Six GPUs vanish: 2 present, 3 in use -> total 3, the missing one reserved.
    caplog.set_level(logging.WARNING)
    agent.sync(units_from(tmp_path, catalog.gpu_server(gpus=2, qat_pfs=0)))
    inventory = children(placement, node)[name + GPU_POOL]['inventories']
    assert (inventory['PGPU']['total'], inventory['PGPU']['reserved']) == (3, 1)
    assert 'still allocated' in caplog.text

    # All gone: the pool stays for its allocation, fully reserved.
    no_gpus = units_from(tmp_path, catalog.gpu_server(gpus=0, qat_pfs=0))
    agent.sync(no_gpus)
    inventory = children(placement, node)[name + GPU_POOL]['inventories']
    assert (inventory['PGPU']['total'], inventory['PGPU']['reserved']) == (3, 3)
    placement.counts.clear()
    agent.sync(no_gpus)
    assert placement.writes == 0

    # Released: Placement does not bump generations when allocations are
    # deleted, so a kept pool's usages are read each cycle until then.
    placement.delete(f'/allocations/{consumer}')
    agent.sync(no_gpus)
    assert children(placement, node) == {}


def test_operator_traits_survive_and_outside_changes_cost_only_reads(
        placement, host, tmp_path):
    name, node = host
    units = units_from(tmp_path, catalog.gpu_server(qat_pfs=0))
    agent = _sync(placement, name)
    agent.sync(units)
    pool = pools.provider_uuid(name + GPU_POOL)
    placement.ensure_traits(['CUSTOM_RACK_A'])
    _set_traits(placement, pool, lambda traits: traits + ['CUSTOM_RACK_A'])

    placement.counts.clear()
    agent.sync(units)
    assert placement.writes == 0
    assert placement.counts['GET'] == 3  # the tree, then that provider again
    ours = {'OWNER_CYBORG', 'CUSTOM_ACCEL_GPU', 'CUSTOM_ACCEL_VENDOR_10DE',
            'CUSTOM_ACCEL_PRODUCT_10DE_2330'}
    assert children(placement, node)[name + GPU_POOL]['traits'] == (
        ours | {'CUSTOM_RACK_A'})

    # Someone drops our traits: they come back, the operator's stays.
    _set_traits(placement, pool, lambda _: ['OWNER_CYBORG', 'CUSTOM_RACK_A'])
    agent.sync(units)
    assert children(placement, node)[name + GPU_POOL]['traits'] == (
        ours | {'CUSTOM_RACK_A'})


def _set_traits(placement, provider, change):
    traits = placement.get(f'/resource_providers/{provider}/traits')
    placement.put(f'/resource_providers/{provider}/traits', {
        'resource_provider_generation': traits['resource_provider_generation'],
        'traits': change(traits['traits'])})


def test_generation_conflict_is_re_read_and_retried(placement, host, tmp_path):
    name, node = host
    pool = pools.provider_uuid(name + GPU_POOL)
    consumers = []
    other_writer = PlacementClient(lambda: placement.adapter)
    client = BeforeWrite(placement, '/inventories', lambda: consumers.append(
        _allocate(other_writer, pool, 'PGPU', 1)))
    agent = _sync(client, name)
    agent.sync(units_from(tmp_path, catalog.gpu_server(gpus=8, qat_pfs=0)))

    client.armed = True
    placement.counts.clear()
    agent.sync(units_from(tmp_path, catalog.gpu_server(gpus=4, qat_pfs=0)))

    assert consumers, 'the concurrent allocation was made'
    inventory = children(placement, node)[name + GPU_POOL]['inventories']
    assert inventory['PGPU']['total'] == 4
    # The first inventory PUT met a 409, the second one won.
    assert placement.counts['PUT'] == 2
    placement.counts.clear()
    agent.sync(units_from(tmp_path, catalog.gpu_server(gpus=4, qat_pfs=0)))
    assert placement.writes == 0


def test_a_pool_disowned_during_a_retry_is_left_alone(
        placement, host, tmp_path):
    """An operator takes OWNER_CYBORG off a pool while the agent writes it."""
    name, node = host
    pool = pools.provider_uuid(name + GPU_POOL)
    client = BeforeWrite(placement, '/traits', lambda: _set_traits(
        placement, pool, lambda traits: [t for t in traits
                                         if t != 'OWNER_CYBORG']))
    agent = _sync(client, name)
    agent.sync(units_from(tmp_path, catalog.gpu_server(gpus=8, qat_pfs=0)))
    # A lost trait makes the next cycle write traits, then inventories.
    _set_traits(placement, pool, lambda traits: [
        t for t in traits if t != 'CUSTOM_ACCEL_GPU'])

    client.armed = True
    agent.sync(units_from(tmp_path, catalog.gpu_server(gpus=4, qat_pfs=0)))

    shown = children(placement, node)[name + GPU_POOL]
    assert 'OWNER_CYBORG' not in shown['traits']
    assert 'CUSTOM_ACCEL_GPU' not in shown['traits']
    assert shown['inventories']['PGPU']['total'] == 8


def test_other_hosts_and_foreign_providers_are_never_touched(
        placement, host, tmp_path, unique_name):
    name, node = host
    other = create_compute_node(placement, unique_name + '-b')
    _sync(placement, unique_name + '-b').sync(
        units_from(tmp_path, catalog.gpu_server(gpus=2)))
    # Nova's own nested provider (a vGPU type) under our compute node.
    vgpu = placement.post('/resource_providers', {
        'name': f'{name}_pci_0000_81_00_0', 'uuid': str(uuid.uuid4()),
        'parent_provider_uuid': node})
    placement.put(f'/resource_providers/{vgpu["uuid"]}/inventories', {
        'resource_provider_generation': vgpu['generation'],
        'inventories': {'VGPU': {'total': 16}}})
    before_other = children(placement, other)
    before_vgpu = children(placement, node)

    agent = _sync(placement, name)
    agent.sync(units_from(tmp_path, catalog.gpu_server()))
    agent.sync(units_from(tmp_path, []))

    assert children(placement, other) == before_other
    assert children(placement, node) == before_vgpu


def test_provider_with_our_name_but_not_ours_is_left_alone(
        placement, host, tmp_path):
    name, node = host
    squatter = placement.post('/resource_providers', {
        'name': name + GPU_POOL, 'uuid': pools.provider_uuid(name + GPU_POOL),
        'parent_provider_uuid': node})
    placement.ensure_traits(['CUSTOM_SOMEONE_ELSE'])
    placement.put(f'/resource_providers/{squatter["uuid"]}/traits', {
        'resource_provider_generation': squatter['generation'],
        'traits': ['CUSTOM_SOMEONE_ELSE']})

    _sync(placement, name).sync(units_from(tmp_path, catalog.gpu_server()))

    tree = children(placement, node)
    assert tree[name + GPU_POOL]['traits'] == {'CUSTOM_SOMEONE_ELSE'}
    assert tree[name + GPU_POOL]['inventories'] == {}
    assert tree[name + QAT_POOL]['inventories']['CUSTOM_ACCEL_CRYPTO']


def test_missing_compute_node_is_an_error_unless_managed(
        placement, unique_name, tmp_path):
    units = units_from(tmp_path, catalog.gpu_server(gpus=1, qat_pfs=0))
    with pytest.raises(placement_sync.RootProviderMissing, match=unique_name):
        _sync(placement, unique_name).sync(units)
    assert placement.writes == 0

    _sync(placement, unique_name, manage_root=True).sync(units)
    root = placement.get_provider_by_name(unique_name)
    assert root['uuid'] == pools.provider_uuid(unique_name)
    assert set(children(placement, root['uuid'])) == {unique_name + GPU_POOL}


def test_pool_by_numa_publishes_one_provider_per_node(
        placement, host, tmp_path):
    name, node = host
    units = units_from(tmp_path, catalog.gpu_server(gpus=8, qat_pfs=0))
    _sync(placement, name, pool_by_numa=True).sync(units)
    tree = children(placement, node)
    assert {n: p['inventories']['PGPU']['total'] for n, p in tree.items()} == {
        name + GPU_POOL + '_NUMA0': 4, name + GPU_POOL + '_NUMA1': 4}


def _allocate(placement, provider, resource_class, amount) -> str:
    consumer = str(uuid.uuid4())
    placement.put(f'/allocations/{consumer}', {
        'allocations': {provider: {'resources': {resource_class: amount}}},
        'project_id': str(uuid.uuid4()), 'user_id': str(uuid.uuid4()),
        'consumer_generation': None, 'consumer_type': 'INSTANCE'})
    return consumer


def test_health_changes_cost_one_inventory_write_and_steady_cycles_none(
        placement, host, tmp_path):
    """reserved follows unhealthy and disabled free units, within what is
    not allocated, and a cycle that changes nothing still writes nothing."""
    name, node = host
    agent = _sync(placement, name)
    units = units_from(tmp_path, catalog.gpu_server(gpus=4, qat_pfs=0))
    agent.sync(units)
    pool = pools.provider_uuid(name + GPU_POOL)

    def inventory():
        found = children(placement, node)[name + GPU_POOL]['inventories']
        return found['PGPU']['total'], found['PGPU']['reserved']

    sick = [dataclasses.replace(units[0], healthy=False,
                                health_reason='AER'),
            dataclasses.replace(units[1], disabled=True), *units[2:]]
    placement.counts.clear()
    agent.sync(sick)
    assert inventory() == (4, 2)
    assert placement.writes == 1  # the inventory PUT (after a usages read)
    placement.counts.clear()
    agent.sync(sick)
    assert dict(placement.counts) == {'GET': 1}

    # Two units allocated (Nova scheduled them, nobody bound them yet), then
    # a third turns unhealthy: reserved stays within total - used.
    _allocate(placement, pool, 'PGPU', 2)
    worse = [*sick[:2], dataclasses.replace(units[2], healthy=False),
             units[3]]
    agent.sync(worse)
    assert inventory() == (4, 2)
    # Bound to two of the unschedulable units: those are used, not reserved.
    agent.sync(worse, held=frozenset({units[0].address, units[2].address}))
    assert inventory() == (4, 1)

    agent.sync(units)
    assert inventory() == (4, 0)
