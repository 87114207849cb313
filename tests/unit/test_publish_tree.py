"""The provider tree a host should have: pools, names, inventory, traits."""
import dataclasses

from cyborg_agent.publish import pools
from cyborg_agent.publish import tree
from cyborg_placement.vocabulary import Unit

ROOT = 'compute-1'
ROOT_UUID = '5b1e6a52-0f3c-4d8e-9a41-0c6f7d1e2b3a'


def _gpus(count, numa=lambda i: 0, **kwargs):
    return [Unit(f'0000:{0x18 + i:02x}:00.0', '10de', '2330', 'GPU',
                 numa_node=numa(i), **kwargs) for i in range(count)]


def _qat_vfs(count, pf='0000:6b:00.0', numa=0):
    return [Unit(f'0000:6b:{1 + i // 8:02x}.{i % 8}', '8086', '4941', 'CRYPTO',
                 numa_node=numa, physfn=pf) for i in range(count)]


def test_identical_units_form_one_pool_provider():
    providers = tree.build(ROOT, ROOT_UUID, _gpus(8) + _qat_vfs(32))

    by_name = {p.name: p for p in providers.values()}
    assert set(by_name) == {'compute-1_GPU_10DE_2330',
                            'compute-1_CRYPTO_8086_4941'}
    gpus = by_name['compute-1_GPU_10DE_2330']
    assert gpus.uuid == pools.provider_uuid(gpus.name)
    assert gpus.parent_uuid == ROOT_UUID
    assert gpus.inventories == {'PGPU': {
        'total': 8, 'reserved': 0, 'min_unit': 1, 'max_unit': 8,
        'step_size': 1, 'allocation_ratio': 1.0}}
    assert gpus.traits == {'OWNER_CYBORG', 'CUSTOM_ACCEL_GPU',
                           'CUSTOM_ACCEL_VENDOR_10DE',
                           'CUSTOM_ACCEL_PRODUCT_10DE_2330'}
    crypto = by_name['compute-1_CRYPTO_8086_4941']
    assert crypto.inventories['CUSTOM_ACCEL_CRYPTO']['total'] == 32
    assert 'CUSTOM_ACCEL_PRODUCT_8086_4941' in crypto.traits


def test_uuids_are_stable_across_runs_and_unit_order():
    units = _gpus(4) + _qat_vfs(16)
    first = tree.build(ROOT, ROOT_UUID, units)
    again = tree.build(ROOT, ROOT_UUID, list(reversed(units)))
    assert first == again


def test_unhealthy_units_are_counted_and_reserved():
    units = _gpus(3) + [dataclasses.replace(u, healthy=False)
                        for u in _gpus(5)[3:]]
    (gpus,) = tree.build(ROOT, ROOT_UUID, units).values()
    assert gpus.inventories['PGPU']['total'] == 5
    assert gpus.inventories['PGPU']['reserved'] == 2
    assert gpus.inventories['PGPU']['max_unit'] == 5


def test_disabled_and_unhealthy_units_are_reserved_only_while_free():
    units = _gpus(4)
    units[0] = dataclasses.replace(units[0], healthy=False)
    units[1] = dataclasses.replace(units[1], disabled=True)
    units[2] = dataclasses.replace(units[2], healthy=False, disabled=True)
    (free,) = tree.build(ROOT, ROOT_UUID, units).values()
    assert free.reserved == 3
    held = frozenset({units[0].address, units[3].address})
    (some_held,) = tree.build(ROOT, ROOT_UUID, units, held=held).values()
    assert (some_held.total, some_held.reserved) == (4, 2)


def test_pool_by_numa_splits_pools_per_node():
    units = _gpus(8, numa=lambda i: i // 4)
    assert len(tree.build(ROOT, ROOT_UUID, units)) == 1
    split = tree.build(ROOT, ROOT_UUID, units, pool_by_numa=True)
    assert sorted((p.name, p.total) for p in split.values()) == [
        ('compute-1_GPU_10DE_2330_NUMA0', 4),
        ('compute-1_GPU_10DE_2330_NUMA1', 4)]


def test_rule_traits_split_a_pool_and_are_remembered_as_rule_traits():
    plain = _gpus(2)
    tagged = [dataclasses.replace(u, extra_traits=frozenset({'CUSTOM_NVLINK'}))
              for u in _gpus(4)[2:]]
    providers = sorted(tree.build(ROOT, ROOT_UUID, plain + tagged).values(),
                       key=lambda p: len(p.name))
    assert [p.total for p in providers] == [2, 2]
    assert providers[0].rule_traits == frozenset()
    assert providers[1].rule_traits == {'CUSTOM_NVLINK'}
    assert 'CUSTOM_NVLINK' in providers[1].traits
    assert providers[1].name.startswith('compute-1_GPU_10DE_2330_')


def test_operator_resource_class_names_the_pool():
    units = [dataclasses.replace(u, resource_class='CUSTOM_H100')
             for u in _gpus(2)]
    (provider,) = tree.build(ROOT, ROOT_UUID, units).values()
    assert provider.resource_class == 'CUSTOM_H100'
    assert list(provider.inventories) == ['CUSTOM_H100']


def test_each_unit_maps_to_its_pool_provider():
    providers = tree.build(ROOT, ROOT_UUID, _gpus(2) + _qat_vfs(2))
    mapping = tree.provider_of_units(providers)
    assert len(mapping) == 4
    gpu_uuid = pools.provider_uuid('compute-1_GPU_10DE_2330')
    assert mapping[('0000:18:00.0', None)].uuid == gpu_uuid
    assert mapping[('0000:6b:01.1', None)].uuid == pools.provider_uuid(
        'compute-1_CRYPTO_8086_4941')


def test_no_units_no_providers():
    assert tree.build(ROOT, ROOT_UUID, []) == {}
