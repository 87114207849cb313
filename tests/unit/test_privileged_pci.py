"""The privileged entry points refuse everything but a PCI address of the
tree and an allowed driver: malformed addresses, ``..``, paths, symlinks that
lead out of the sysfs root, drivers outside the set. They run here as they
run in the daemon (``privileged_here``), so a refusal here is the daemon's."""
import os

import pytest

from cyborg_agent.privileged import pci
from cyborg_agent.privileged import Refused
from cyborg_agent.privileged import WriteFailed
from tools.harness import catalog

GPU = '0000:3b:00.0'

#: Every entry point, with valid arguments after the address.
ENTRY_POINTS = [(pci.unbind, ()), (pci.clear_driver_override, ()),
                (pci.set_driver_override, ('vfio-pci',)), (pci.probe, ())]
NAMES = [entry.func.__name__ for entry, _ in ENTRY_POINTS]


@pytest.fixture
def tree(sysfs, privileged_here):
    sysfs.add(catalog.nvidia_t4(GPU))
    sysfs.driver_dir('vfio-pci')
    privileged_here(sysfs.root)
    return sysfs


def _snapshot(root):
    """Every file of the tree with its content: what a refusal must keep."""
    return {path: path.read_bytes() for path in root.rglob('*')
            if path.is_file() and not path.is_symlink()}


@pytest.mark.parametrize('address', [
    '/etc/passwd', '..', '../../../etc', f'{GPU}/../..', '0000:3B:00.0',
    '3b:00.0', f'{GPU}\n', '', 42, None, ['0000:3b:00.0'],
])
@pytest.mark.parametrize('entry, extra', ENTRY_POINTS, ids=NAMES)
def test_a_malformed_address_is_refused(tree, entry, extra, address):
    before = _snapshot(tree.root)
    with pytest.raises(Refused) as caught:
        entry(address, *extra)
    assert caught.value.reason == (
        f'{address!r} is not a PCI address (dddd:bb:dd.f).')
    assert _snapshot(tree.root) == before


@pytest.mark.parametrize('entry, extra', ENTRY_POINTS, ids=NAMES)
def test_an_address_the_tree_does_not_have_is_refused(tree, entry, extra):
    with pytest.raises(Refused) as caught:
        entry('0000:99:00.0', *extra)
    assert caught.value.reason == (
        f'PCI device 0000:99:00.0 is not in {os.path.realpath(tree.root)}.')


@pytest.mark.parametrize('entry, extra', ENTRY_POINTS, ids=NAMES)
def test_a_device_link_out_of_the_root_is_refused(tree, tmp_path, entry,
                                                  extra):
    """A device whose directory is elsewhere: nothing is written there."""
    outside = tmp_path / 'elsewhere'
    outside.mkdir()
    for name in ('driver_override', 'unbind'):
        (outside / name).write_text('untouched')
    link = tree.bus / 'devices' / '0000:5e:00.0'
    link.symlink_to(outside)
    with pytest.raises(Refused) as caught:
        entry('0000:5e:00.0', *extra)
    assert 'leads out of the sysfs root' in caught.value.reason
    assert {p.read_text() for p in outside.iterdir()} == {'untouched'}


def test_a_driver_link_out_of_the_root_is_refused(tree, tmp_path):
    outside = tmp_path / 'elsewhere'
    outside.mkdir()
    (outside / 'unbind').write_text('untouched')
    link = tree.bus / 'devices' / GPU / 'driver'
    link.unlink()
    link.symlink_to(outside)
    with pytest.raises(Refused) as caught:
        pci.unbind(GPU)
    assert caught.value.reason.startswith(
        f'{os.path.realpath(link.parent)}/driver/unbind leads out of the '
        'sysfs root')
    assert (outside / 'unbind').read_text() == 'untouched'


def test_an_attribute_link_out_of_the_root_is_refused(tree, tmp_path):
    target = tmp_path / 'shadow'
    target.write_text('root:x')
    override = tree.bus / 'devices' / GPU / 'driver_override'
    override.unlink()
    override.symlink_to(target)
    with pytest.raises(Refused):
        pci.set_driver_override(GPU, 'vfio-pci')
    assert target.read_text() == 'root:x'


@pytest.mark.parametrize('driver', [
    'nvidia', '..', '.', '../../x', '/etc/passwd', 'vfio-pci/../x',
    'vfio-pci\n', '', None, 7])
def test_a_driver_outside_the_allowed_set_is_refused(tree, driver):
    before = _snapshot(tree.root)
    with pytest.raises(Refused) as caught:
        pci.set_driver_override(GPU, driver)
    assert caught.value.reason == (
        f'Driver {driver!r} is not allowed on this host (allowed: '
        'vfio-pci; see [agent] host_attach_allowed_drivers).')
    assert _snapshot(tree.root) == before


def test_the_allowed_set_is_read_from_the_daemons_configuration(
        tree, privileged_here):
    privileged_here(tree.root, host_attach_allowed_drivers=['nvidia'])
    pci.set_driver_override(GPU, 'nvidia')
    assert (tree.bus / 'devices' / GPU / 'driver_override').read_text() \
        == 'nvidia'


def test_nothing_is_created(tree):
    """A missing attribute is the kernel's refusal, not a file to make."""
    override = tree.bus / 'devices' / GPU / 'driver_override'
    override.unlink()
    with pytest.raises(WriteFailed) as caught:
        pci.set_driver_override(GPU, 'vfio-pci')
    assert caught.value.reason == (
        f"Writing 'vfio-pci' to {os.path.realpath(override)} failed: No "
        'such file or directory.')
    assert not override.exists()


def test_links_inside_the_root_are_followed(tree):
    """As in a real sysfs: ``driver`` links to ``bus/pci/drivers/<name>``."""
    pci.unbind(GPU)
    pci.set_driver_override(GPU, 'vfio-pci')
    pci.probe(GPU)
    pci.clear_driver_override(GPU)
    assert (tree.bus / 'drivers' / 'nvidia' / 'unbind').read_text() == GPU
    assert (tree.bus / 'drivers_probe').read_text() == GPU
    assert (tree.bus / 'devices' / GPU / 'driver_override').read_text() \
        == '\n'
