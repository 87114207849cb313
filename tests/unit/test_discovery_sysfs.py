"""Reading PCI functions from sysfs trees built from real device ids."""
from cyborg_agent.discovery import sysfs as reader
from tools.harness import catalog


def read(tree) -> dict[str, reader.PciRecord]:
    return {r.address: r for r in reader.read_functions(str(tree.root))}


def test_every_fact_of_a_gpu_is_read(sysfs, caplog):
    sysfs.add(catalog.nvidia_h100_sxm('0000:18:00.0', numa_node=1,
                                      iommu_group=42))
    gpu = read(sysfs)['0000:18:00.0']
    assert (gpu.vendor_id, gpu.product_id, gpu.pci_class) == (
        '10de', '2330', '030200')
    assert (gpu.subsystem_vendor_id, gpu.subsystem_product_id) == (
        '10de', '16c1')
    assert gpu.revision == 'a1'
    assert gpu.numa_node == 1
    assert gpu.iommu_group == 42
    assert gpu.driver == 'nvidia'
    assert gpu.sriov_totalvfs is None and gpu.virtfns == []
    assert gpu.physfn is None
    assert caplog.records == []


def test_no_numa_affinity_no_driver_no_iommu_are_silent(sysfs, caplog):
    sysfs.add(catalog.host_bridge())
    bridge = read(sysfs)['0000:00:00.0']
    assert bridge.numa_node is None
    assert bridge.driver is None
    assert bridge.iommu_group is None
    assert caplog.records == []


def test_sriov_state_and_links_of_a_qat(sysfs):
    sysfs.add(catalog.intel_qat_4xxx('0000:6b:00.0', numa_node=1, vfs=16))
    records = read(sysfs)
    assert len(records) == 17
    pf = records['0000:6b:00.0']
    assert (pf.sriov_totalvfs, pf.sriov_numvfs) == (16, 16)
    assert len(pf.virtfns) == 16
    # virtfn10 comes after virtfn9: VF index order, not name order.
    assert pf.virtfns[9:11] == ['0000:6b:02.1', '0000:6b:02.2']
    vf = records['0000:6b:02.7']
    assert (vf.vendor_id, vf.product_id) == ('8086', '4941')
    assert vf.physfn == '0000:6b:00.0'
    assert vf.driver == '4xxxvf'
    assert vf.numa_node == 1


def test_sriov_capable_but_disabled(sysfs):
    sysfs.add(catalog.mellanox_connectx6_dx('0000:3b:00.0'))
    nic = read(sysfs)['0000:3b:00.0']
    assert (nic.sriov_totalvfs, nic.sriov_numvfs, nic.virtfns) == (8, 0, [])


def test_mdev_types_of_a_t4(sysfs):
    sysfs.add(catalog.nvidia_t4('0000:af:00.0'))
    t4 = read(sysfs)['0000:af:00.0']
    assert [(m.type_id, m.available_instances, m.device_api, m.name)
            for m in t4.mdev_types] == [
        ('nvidia-222', 16, 'vfio-pci', 'GRID T4-1B'),
        ('nvidia-230', 1, 'vfio-pci', 'GRID T4-16Q')]


def test_a_whole_server_is_read_in_address_order(sysfs):
    sysfs.add_all(catalog.gpu_server(gpus=8, qat_pfs=2, qat_vfs=16))
    records = read(sysfs)
    assert len(records) == 2 + 8 + 2 * 17 + 1
    assert list(records) == sorted(records)


def test_missing_bus_directory_is_one_warning(tmp_path, caplog):
    assert reader.read_functions(str(tmp_path)) == []
    [warning] = caplog.records
    assert str(tmp_path / 'bus' / 'pci' / 'devices') in warning.getMessage()
