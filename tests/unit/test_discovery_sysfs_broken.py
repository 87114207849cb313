"""Broken sysfs trees: one warning naming the path, everything else discovered.

Each case breaks one thing the way real machines do (a vanished file, a file
the kernel cannot read, firmware garbage, a driver unloaded under a link) in a
tree of real devices, then checks that discovery warns once about exactly that
path, skips only that fact or that device, and still finds every other unit.
A fact ``uevent`` gives is broken in its own file with ``uevent`` lacking it
(discovery reads the file only then); a broken ``uevent`` itself costs
nothing but its warning: the facts come from their files.
"""
import os
import pathlib
import shutil

import pytest

from cyborg_agent import discovery
from tests.conftest import make_conf
from tools.harness import catalog

GPU = '0000:18:00.0'
QAT = '0000:6b:00.0'
QAT_VFS = ['0000:6b:01.0', '0000:6b:01.1', '0000:6b:01.2', '0000:6b:01.3']
GAUDI = '0000:b1:00.0'
T4 = '0000:af:00.0'
ALL_UNITS = {GPU, GAUDI, T4, *QAT_VFS}


@pytest.fixture
def tree(sysfs):
    sysfs.add_all([
        catalog.aspeed_bmc_vga('0000:03:00.0'),
        catalog.nvidia_h100_sxm(GPU, numa_node=0, iommu_group=7),
        catalog.intel_qat_4xxx(QAT, numa_node=1, vfs=4),
        catalog.nvidia_t4(T4, numa_node=1),
        catalog.habana_gaudi2(GAUDI, numa_node=1),
    ])
    return sysfs


def _dir(tree, address: str) -> pathlib.Path:
    """The device as warnings name it: through ``bus/pci/devices``."""
    return tree.bus / 'devices' / address


def unlink(path: pathlib.Path) -> pathlib.Path:
    path.unlink()
    return path


def replace_with_directory(path: pathlib.Path) -> pathlib.Path:
    """What a file the kernel cannot read looks like to root: not a file."""
    path.unlink()
    path.mkdir()
    return path


def write(path: pathlib.Path, data: bytes) -> pathlib.Path:
    path.write_bytes(data)
    return path


def replace_dir_with_file(path: pathlib.Path) -> pathlib.Path:
    shutil.rmtree(path)
    return path


def dangle(link: pathlib.Path) -> pathlib.Path:
    link.unlink()
    link.symlink_to('../../../nowhere/gone')
    return link


def lacking(key: str, address: str, breaker):
    """``breaker``, on a function whose ``uevent`` lacks ``key``."""
    def broken(tree) -> pathlib.Path:
        tree.drop_uevent_keys(address, key)
        return breaker(tree)
    return broken


def uevent_line(tree, address: str, key: str, value: str) -> pathlib.Path:
    path = _dir(tree, address) / 'uevent'
    lines = [line for line in path.read_text().splitlines()
             if not line.startswith(f'{key}=')]
    return write(path, '\n'.join([*lines, f'{key}={value}']).encode())


def junk_entry(tree) -> pathlib.Path:
    entry = tree.bus / 'devices' / 'junk'
    entry.symlink_to(os.path.relpath(tree.device_dir(GPU), entry.parent))
    return entry


# (case, how to break the tree -> the broken path, units still expected)
CASES = [
    ('missing vendor file',
     lacking('PCI_ID', GPU, lambda t: unlink(_dir(t, GPU) / 'vendor')),
     ALL_UNITS - {GPU}),
    ('unreadable class file',
     lacking('PCI_CLASS', GAUDI,
             lambda t: replace_with_directory(_dir(t, GAUDI) / 'class')),
     ALL_UNITS - {GAUDI}),
    ('malformed device id',
     lacking('PCI_ID', T4,
             lambda t: write(_dir(t, T4) / 'device', b'0xZZ1t\n')),
     ALL_UNITS - {T4}),
    ('device id of the wrong length',
     lacking('PCI_ID', T4,
             lambda t: write(_dir(t, T4) / 'device', b'0x1eb80\n')),
     ALL_UNITS - {T4}),
    ('class that is not text',
     lacking('PCI_CLASS', GPU,
             lambda t: write(_dir(t, GPU) / 'class', b'\xff\xfe\x00\x03')),
     ALL_UNITS - {GPU}),
    ('class of the wrong length',
     lacking('PCI_CLASS', GPU,
             lambda t: write(_dir(t, GPU) / 'class', b'0x0302\n')),
     ALL_UNITS - {GPU}),
    ('malformed numa_node keeps the device',
     lambda t: write(_dir(t, GAUDI) / 'numa_node', b'one\n'), ALL_UNITS),
    ('unreadable revision keeps the device',
     lambda t: replace_with_directory(_dir(t, GAUDI) / 'revision'),
     ALL_UNITS),
    ('missing subsystem_vendor keeps the device',
     lacking('PCI_SUBSYS_ID', GPU,
             lambda t: unlink(_dir(t, GPU) / 'subsystem_vendor')),
     ALL_UNITS),
    ('dangling driver link keeps the device',
     lacking('DRIVER', GPU, lambda t: dangle(_dir(t, GPU) / 'driver')),
     ALL_UNITS),
    ('dangling iommu_group link keeps the device',
     lambda t: dangle(_dir(t, GPU) / 'iommu_group'), ALL_UNITS),
    ('dangling device link in bus/pci/devices',
     lambda t: dangle(t.bus / 'devices' / GAUDI), ALL_UNITS - {GAUDI}),
    ('entry that is not a PCI address', junk_entry, ALL_UNITS),
    ('VF whose physfn link dangles stays a unit of its PF',
     lambda t: dangle(_dir(t, QAT_VFS[2]) / 'physfn'), ALL_UNITS),
    ('PF whose virtfn link dangles keeps that VF through its physfn',
     lambda t: dangle(_dir(t, QAT) / 'virtfn1'), ALL_UNITS),
    ('malformed sriov_numvfs keeps the VFs',
     lambda t: write(_dir(t, QAT) / 'sriov_numvfs', b'sixteen\n'), ALL_UNITS),
    ('malformed mdev available_instances drops that mdev type',
     lambda t: write(_dir(t, T4) / 'mdev_supported_types' / 'nvidia-222'
                     / 'available_instances', b'-\n'), ALL_UNITS),
    ('mdev_supported_types that is a file drops the mdev types',
     lambda t: write(replace_dir_with_file(
         _dir(t, T4) / 'mdev_supported_types'), b''), ALL_UNITS),
    ('VF with a malformed vendor is left out, its siblings stay',
     lacking('PCI_ID', QAT_VFS[0],
             lambda t: write(_dir(t, QAT_VFS[0]) / 'vendor', b'0x80 86\n')),
     ALL_UNITS - {QAT_VFS[0]}),
    ('malformed PCI_ID in uevent: the ids come from their files',
     lambda t: uevent_line(t, GPU, 'PCI_ID', '10DE:23'), ALL_UNITS),
    ('malformed PCI_CLASS in uevent: the class comes from its file',
     lambda t: uevent_line(t, T4, 'PCI_CLASS', '3020000'), ALL_UNITS),
    ('uevent of another function: the facts come from their files',
     lambda t: uevent_line(t, GAUDI, 'PCI_SLOT_NAME', GPU), ALL_UNITS),
    ('uevent that is not text',
     lambda t: write(_dir(t, QAT) / 'uevent', b'PCI_ID=\xff\xfe\n'),
     ALL_UNITS),
    ('unreadable uevent',
     lambda t: replace_with_directory(_dir(t, QAT_VFS[1]) / 'uevent'),
     ALL_UNITS),
]


@pytest.mark.parametrize('case, breaker, expected',
                         CASES, ids=[case[0] for case in CASES])
def test_one_warning_naming_the_path(tree, tmp_path, caplog, case, breaker,
                                     expected):
    broken = breaker(tree)
    conf = make_conf(tmp_path, {'agent': {'sysfs_root': tree.root}})

    units = discovery.discover_units(conf)

    assert {unit.address for unit in units} == expected
    warnings = [r.getMessage() for r in caplog.records
                if r.levelname == 'WARNING']
    assert len(warnings) == 1, warnings
    assert str(broken) in warnings[0]


def test_facts_of_a_device_with_a_broken_fact(tree, tmp_path):
    write(_dir(tree, GAUDI) / 'numa_node', b'one\n')
    lacking('DRIVER', GPU, lambda t: dangle(_dir(t, GPU) / 'driver'))(tree)
    conf = make_conf(tmp_path, {'agent': {'sysfs_root': tree.root}})

    devices = {d.record.address: d for d in discovery.discover_devices(conf)}

    assert devices[GAUDI].record.numa_node is None
    assert devices[GAUDI].device_type == 'AI'
    assert devices[GPU].record.driver is None
    assert devices[GPU].record.iommu_group == 7
    assert devices[T4].record.numa_node == 1


def test_vf_whose_pf_is_unreadable_is_its_own_unit(tree, tmp_path):
    """The PF's ids are garbage; its QAT VFs are still crypto units."""
    lacking('PCI_CLASS', QAT,
            lambda t: write(_dir(t, QAT) / 'class', b'0x0b40\n'))(tree)
    conf = make_conf(tmp_path, {'agent': {'sysfs_root': tree.root}})

    units = {u.address: u for u in discovery.discover_units(conf)}

    assert set(units) == ALL_UNITS
    assert units[QAT_VFS[0]].device_type == 'CRYPTO'
    assert units[QAT_VFS[0]].physfn is None


def test_an_empty_device_directory(tree, tmp_path, caplog):
    empty = tree.device_dir('0000:c3:00.0')
    empty.mkdir(parents=True)
    (tree.bus / 'devices' / '0000:c3:00.0').symlink_to(
        os.path.relpath(empty, tree.bus / 'devices'))
    conf = make_conf(tmp_path, {'agent': {'sysfs_root': tree.root}})

    units = discovery.discover_units(conf)

    assert {unit.address for unit in units} == ALL_UNITS
    [warning] = caplog.records
    assert str(_dir(tree, '0000:c3:00.0') / 'vendor') in warning.getMessage()
