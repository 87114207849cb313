"""Assignable units: VFs of a PF with VFs enabled, otherwise the PF itself."""
from cyborg_agent import discovery
from cyborg_agent.publish import pools
from cyborg_placement.vocabulary import Unit
from tests.conftest import make_conf
from tools.harness import catalog


def units_of(tree, tmp_path, **agent) -> list[Unit]:
    conf = make_conf(tmp_path, {'agent': {'sysfs_root': tree.root, **agent}})
    return discovery.discover_units(conf)


def test_gpu_server_units(sysfs, tmp_path):
    sysfs.add_all(catalog.gpu_server(gpus=8, qat_pfs=2, qat_vfs=16))

    units = units_of(sysfs, tmp_path)

    gpus = [u for u in units if u.device_type == 'GPU']
    crypto = [u for u in units if u.device_type == 'CRYPTO']
    assert len(units) == 8 + 32
    assert {(u.vendor_id, u.product_id, u.physfn) for u in gpus} == {
        ('10de', '2330', None)}
    assert sorted(u.numa_node for u in gpus) == [0] * 4 + [1] * 4
    # Each VF is a unit with the VF's own ids, and names its PF.
    assert {(u.vendor_id, u.product_id, u.driver) for u in crypto} == {
        ('8086', '4941', '4xxxvf')}
    assert {u.physfn for u in crypto} == {'0000:6b:00.0', '0000:7b:00.0'}
    assert '0000:6b:00.0' not in {u.address for u in units}


def test_pf_without_vfs_enabled_is_the_unit(sysfs, tmp_path):
    sysfs.add(catalog.intel_qat_4xxx('0000:6b:00.0', numa_node=1, vfs=0))

    [unit] = units_of(sysfs, tmp_path)

    assert (unit.address, unit.product_id, unit.physfn) == (
        '0000:6b:00.0', '4940', None)
    assert unit.driver == '4xxx'


def test_units_fall_into_pools_by_ids_and_numa(sysfs, tmp_path):
    sysfs.add_all(catalog.gpu_server(gpus=4, qat_pfs=2, qat_vfs=4))

    by_numa = units_of(sysfs, tmp_path, pool_by_numa=True)
    names = {pools.provider_name('host1', pools.pool_key(u, True))
             for u in by_numa}

    assert names == {'host1_GPU_10DE_2330_NUMA0', 'host1_GPU_10DE_2330_NUMA1',
                     'host1_CRYPTO_8086_4941_NUMA0',
                     'host1_CRYPTO_8086_4941_NUMA1'}


def test_nothing_to_find_on_a_host_without_accelerators(sysfs, tmp_path):
    sysfs.add_all([catalog.host_bridge(), catalog.virtio_net('0000:00:03.0'),
                   catalog.samsung_nvme('0000:c1:00.0'),
                   catalog.aspeed_bmc_vga()])
    assert units_of(sysfs, tmp_path) == []
