"""The sysfs trees tests are built on must look like the kernel's."""
import os

from tools.harness import catalog


def _read(path):
    return path.read_text().strip()


def test_device_files_and_links(sysfs):
    sysfs.add(catalog.nvidia_h100_sxm('0000:18:00.0', numa_node=1,
                                      iommu_group=7))
    device = sysfs.bus / 'devices' / '0000:18:00.0'
    assert device.is_symlink()
    assert _read(device / 'vendor') == '0x10de'
    assert _read(device / 'device') == '0x2330'
    assert _read(device / 'class') == '0x030200'
    assert _read(device / 'numa_node') == '1'
    assert os.path.basename(os.readlink(device / 'driver')) == 'nvidia'
    assert (device / 'driver' / 'unbind').exists()
    assert os.path.basename(os.readlink(device / 'iommu_group')) == '7'
    assert (device / 'iommu_group' / 'devices' / '0000:18:00.0').exists()


def test_sriov_pf_and_vfs_link_both_ways(sysfs):
    sysfs.add(catalog.intel_qat_4xxx('0000:6b:00.0', vfs=16))
    pf = sysfs.bus / 'devices' / '0000:6b:00.0'
    assert _read(pf / 'sriov_totalvfs') == '16'
    assert _read(pf / 'sriov_numvfs') == '16'
    vf = (pf / 'virtfn15').resolve()
    assert vf.name == '0000:6b:02.7'
    assert _read(vf / 'device') == '0x4941'
    assert (vf / 'physfn').resolve() == pf.resolve()
    assert len(list((sysfs.bus / 'devices').iterdir())) == 17


def test_mdev_types(sysfs):
    sysfs.add(catalog.nvidia_t4('0000:3b:00.0'))
    types = sysfs.bus / 'devices' / '0000:3b:00.0' / 'mdev_supported_types'
    assert sorted(p.name for p in types.iterdir()) == ['nvidia-222',
                                                      'nvidia-230']
    assert _read(types / 'nvidia-222' / 'available_instances') == '16'
    assert _read(types / 'nvidia-230' / 'name') == 'GRID T4-16Q'


def test_numa_nodes_list_their_cpus_and_the_cpus_their_package(sysfs):
    sysfs.add_node(1, [4, 5, 6, 7, 12], package=1)
    node = sysfs.root / 'devices' / 'system' / 'node' / 'node1'
    assert _read(node / 'cpulist') == '4-7,12'
    assert _read(node / 'cpu12' / 'topology' / 'physical_package_id') == '1'
    assert (sysfs.root / 'devices/system/cpu/cpu5/topology/'
            'physical_package_id').read_text() == '1\n'
