"""Discovery reads a function's ids and driver from one ``uevent``.

Whatever ``uevent`` gives or lacks, the facts are those of the function's
own files: on every kind of tree the tests and the benchmarks build (with
failing functions too), discovery finds the same records, with the same
warnings, from full ``uevent`` files, from ``uevent`` files lacking any one
key, and from none at all (the files only).
"""
import logging
import pathlib

import pytest

from benchmarks import discovery as discovery_benchmark
from cyborg_agent.discovery import sysfs
from cyborg_agent.discovery import uevent
from tools.harness import catalog
from tools.harness import fleet
from tools.harness import sysfs_tree

KEYS = ('PCI_ID', 'PCI_CLASS', 'PCI_SUBSYS_ID', 'DRIVER', 'PCI_SLOT_NAME')


#: What the tests and the benchmarks build trees of.
FUNCTIONS = {
    'gpu server': catalog.gpu_server,
    **{f'fleet {mix}': make for mix, make in fleet.MIXES.items()},
    'benchmark host, every catalog device':
        lambda: discovery_benchmark.host_functions(60),
    'failing gpu server': catalog.gpu_server,
}


def _build(name: str, root: pathlib.Path) -> sysfs_tree.SysfsTree:
    """The tree; a failing one fails as the health tests make functions
    fail: AER errors, a function that does not answer, a driver unloaded,
    a VF lost."""
    tree = sysfs_tree.build(root, FUNCTIONS[name]())
    if name.startswith('failing'):
        tree.set_aer('0000:18:00.0', nonfatal={'CmpltTO': 3})
        tree.stop_answering('0000:28:00.0')
        tree.unload_driver('4xxx')
        tree.lose_function('0000:6b:01.3')
    return tree


def _uevents(tree: sysfs_tree.SysfsTree) -> list[pathlib.Path]:
    return sorted((tree.bus / 'devices').glob('*/uevent'))


def _read(root: pathlib.Path, caplog) -> tuple[list, list[str]]:
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        records = sysfs.read_functions(str(root))
    return records, [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize('name', FUNCTIONS)
def test_uevent_gives_what_the_files_give(name, tmp_path, caplog):
    tree = _build(name, tmp_path / 'sys')
    assert _uevents(tree), 'the harness writes uevent files'
    read_with_uevent = _read(tree.root, caplog)

    for path in _uevents(tree):
        path.unlink()
    assert _read(tree.root, caplog) == read_with_uevent


@pytest.mark.parametrize('key', KEYS)
@pytest.mark.parametrize('name', FUNCTIONS)
def test_a_key_uevent_lacks_comes_from_its_file(name, key, tmp_path,
                                                caplog):
    tree = _build(name, tmp_path / 'sys')
    read_with_uevent = _read(tree.root, caplog)

    for path in _uevents(tree):
        tree.drop_uevent_keys(path.parent.name, key)
    assert _read(tree.root, caplog) == read_with_uevent


def test_the_harness_writes_uevent_as_the_kernel_prints_it(sysfs):
    sysfs.add(catalog.intel_qat_4xxx('0000:6b:00.0', vfs=1))
    device = sysfs.bus / 'devices' / '0000:6b:00.0'
    assert (device / 'uevent').read_text().splitlines() == [
        'DRIVER=4xxx', 'PCI_CLASS=B4000', 'PCI_ID=8086:4940',
        'PCI_SUBSYS_ID=8086:0000', 'PCI_SLOT_NAME=0000:6b:00.0',
        'MODALIAS=pci:v00008086d00004940sv00008086sd00000000bc0Bsc40i00']


def test_facts_by_the_name_of_their_files():
    text = ('DRIVER=nvidia\nPCI_CLASS=30200\nPCI_ID=10DE:2330\n'
            'PCI_SUBSYS_ID=10DE:16C1\nPCI_SLOT_NAME=0000:18:00.0\n'
            'MODALIAS=pci:v000010DEd00002330sv000010DEsd000016C1bc03sc02i00')
    assert uevent.facts(text, '0000:18:00.0') == ({
        'driver': 'nvidia', 'class': '030200', 'vendor': '10de',
        'device': '2330', 'subsystem_vendor': '10de',
        'subsystem_device': '16c1'}, [])


@pytest.mark.parametrize('text, problem', [
    ('PCI_ID=10DE:23', "malformed PCI_ID '10DE:23'"),
    ('PCI_ID=10DE2330', "malformed PCI_ID '10DE2330'"),
    ('PCI_SUBSYS_ID=10DE:16C1:0', "malformed PCI_SUBSYS_ID '10DE:16C1:0'"),
    ('PCI_CLASS=1200000', "malformed PCI_CLASS '1200000'"),
    ('PCI_CLASS=', "malformed PCI_CLASS ''"),
    ('PCI_CLASS=0x3020', "malformed PCI_CLASS '0x3020'"),
])
def test_a_malformed_value_gives_no_fact(text, problem):
    assert uevent.facts(f'{text}\nPCI_SLOT_NAME=0000:18:00.0',
                        '0000:18:00.0') == ({}, [problem])


def test_uevent_of_another_function_gives_nothing():
    assert uevent.facts('PCI_ID=10DE:2330\nPCI_SLOT_NAME=0000:19:00.0',
                        '0000:18:00.0') == (
        {}, ["PCI_SLOT_NAME '0000:19:00.0' is another function"])
