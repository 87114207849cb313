"""Host attachments on sysfs trees: the exact writes, their order, the
restore, the journal a restarted agent restores from, and the refusals."""
import pytest

from cyborg_agent import host_attach
from cyborg_agent import reconciler
from cyborg_agent.attach_errors import AttachFailed
from cyborg_agent.attach_errors import NotSettled
from cyborg_agent.attachment_api import AttachmentApi
from cyborg_agent.discovery.rules import InvalidRule
from cyborg_agent.journal import Journal
from cyborg_agent.vm_attach import VmAttacher
from tools.harness import catalog

GPU = '0000:3b:00.0'


@pytest.fixture
def tree(sysfs):
    sysfs.add(catalog.nvidia_t4(GPU))
    sysfs.driver_dir('vfio-pci')
    return sysfs


class Recorder:
    """The real write, remembering (path relative to the tree, value)."""

    def __init__(self, root):
        self.root = root
        self.writes = []

    def __call__(self, path, value):
        host_attach.write_sysfs(path, value)
        self.writes.append((str(path.relative_to(self.root)), value))


def _binder(tree, tmp_path, **kwargs):
    recorder = Recorder(tree.root)
    binder = host_attach.HostBinder(tree.root, Journal(tmp_path / 'state'),
                                    write=recorder, **kwargs)
    return binder, recorder


def test_attach_unbinds_overrides_probes_in_that_order(tree, tmp_path):
    binder, recorder = _binder(tree, tmp_path)
    assert binder.attach('a1', GPU) is True
    dev = f'bus/pci/devices/{GPU}'
    assert recorder.writes == [
        (f'{dev}/driver/unbind', GPU),
        (f'{dev}/driver_override', 'vfio-pci'),
        ('bus/pci/drivers_probe', GPU)]
    assert (tree.bus / 'drivers/nvidia/unbind').read_text() == GPU
    assert (tree.bus / f'devices/{GPU}/driver_override').read_text() \
        == 'vfio-pci'
    assert binder.journal.get('a1')['original_driver'] == 'nvidia'


def test_second_attach_writes_nothing(tree, tmp_path):
    binder, recorder = _binder(tree, tmp_path)
    binder.attach('a1', GPU)
    recorder.writes.clear()
    assert binder.attach('a1', GPU) is False
    assert recorder.writes == []


def test_restarted_agent_restores_from_the_journal(tree, tmp_path):
    first, _ = _binder(tree, tmp_path)
    first.attach('a1', GPU)
    restarted, recorder = _binder(tree, tmp_path)  # a new process
    assert restarted.detach('a1', GPU) is True
    dev = f'bus/pci/devices/{GPU}'
    assert recorder.writes == [
        (f'{dev}/driver_override', '\n'),
        (f'{dev}/driver/unbind', GPU),
        ('bus/pci/drivers_probe', GPU)]
    assert restarted.journal.get('a1') is None
    assert restarted.detach('a1', GPU) is False  # done: nothing more


def test_an_operator_override_comes_back(tree, tmp_path):
    (tree.bus / f'devices/{GPU}/driver_override').write_text('nvidia\n')
    binder, recorder = _binder(tree, tmp_path)
    binder.attach('a1', GPU)
    binder.detach('a1', GPU)
    assert (tree.bus / f'devices/{GPU}/driver_override').read_text() \
        == 'nvidia'


def test_unbound_device_is_not_unbound(sysfs, tmp_path):
    sysfs.add(catalog.habana_gaudi2('0000:4d:00.0'))
    sysfs.driver_dir('vfio-pci')
    unbound = '0000:4d:00.0'
    (sysfs.bus / f'devices/{unbound}/driver').unlink()
    binder, recorder = _binder(sysfs, tmp_path)
    binder.attach('a1', unbound)
    assert [path for path, _ in recorder.writes] == [
        f'bus/pci/devices/{unbound}/driver_override', 'bus/pci/drivers_probe']


def test_operator_rule_names_the_driver(tree, tmp_path):
    tree.driver_dir('nvidia-vgpu-vfio')
    rules = [host_attach.parse_driver_rule(
        '{"vendor_id": "8086", "driver": "qat"}'),
        host_attach.parse_driver_rule(
        '{"vendor_id": "10DE", "product_id": "1eb8", '
        '"driver": "nvidia-vgpu-vfio"}')]
    binder, recorder = _binder(tree, tmp_path, rules=rules)
    binder.attach('a1', GPU)
    assert (f'bus/pci/devices/{GPU}/driver_override', 'nvidia-vgpu-vfio') \
        in recorder.writes


def test_rule_ids_are_read_like_discovery_rules():
    rule = host_attach.parse_driver_rule(
        '{"vendor_id": "0x10DE", "address": "0000:3B:*", "driver": "x"}')
    assert rule.matches('0000:3b:00.0', '10de', '1eb8')
    assert not rule.matches('0000:3c:00.0', '10de', '1eb8')


@pytest.mark.parametrize('text, part', [
    ('{"vendor_id": "10de"}', 'needs a "driver"'),
    ('{"driver": "vfio-pci", "class": "03"}', 'unknown keys class'),
    ('{"driver": "../x"}', 'bad driver name'),
    ('vfio-pci', 'not JSON'),
    ('{"vendor_id": "nvidia", "driver": "vfio-pci"}', 'hex id'),
    ('{"address": "bus 3", "driver": "vfio-pci"}', 'PCI address'),
])
def test_bad_rule_is_refused_by_name(text, part):
    with pytest.raises(InvalidRule) as caught:
        host_attach.parse_driver_rule(text)
    assert text in str(caught.value) and part in str(caught.value)


def test_missing_driver_changes_nothing(tree, tmp_path):
    binder, recorder = _binder(tree, tmp_path, default_driver='igb_uio')
    with pytest.raises(AttachFailed) as caught:
        binder.attach('a1', GPU)
    assert 'Driver igb_uio is not loaded' in caught.value.reason
    assert recorder.writes == [] and binder.journal.uuids() == []


def test_device_gone(tree, tmp_path):
    binder, _ = _binder(tree, tmp_path)
    with pytest.raises(AttachFailed) as caught:
        binder.attach('a1', '0000:99:00.0')
    assert 'PCI device 0000:99:00.0 is gone' in caught.value.reason


def test_refused_write_names_the_file(tree, tmp_path):
    probe = tree.bus / 'drivers_probe'
    probe.unlink()
    probe.mkdir()  # any write to it fails, as a kernel refusal would
    binder, _ = _binder(tree, tmp_path)
    with pytest.raises(AttachFailed) as caught:
        binder.attach('a1', GPU)
    assert str(probe) in caught.value.reason
    # The journal still holds the original driver, for the roll-back.
    assert binder.journal.get('a1')['original_driver'] == 'nvidia'


def _refuse_probe(tree):
    probe = tree.bus / 'drivers_probe'
    probe.unlink()
    probe.mkdir()  # any write to it fails, as a kernel refusal would


def test_refused_restore_is_tried_again(tree, tmp_path):
    binder, _ = _binder(tree, tmp_path)
    binder.attach('a1', GPU)
    _refuse_probe(tree)
    with pytest.raises(NotSettled) as caught:
        binder.detach('a1', GPU)
    assert 'drivers_probe' in str(caught.value)
    # Still bound to the host driver: the record stays for the next pass.
    assert binder.journal.get('a1')['original_driver'] == 'nvidia'


def test_refused_roll_back_is_a_problem_of_the_pass(tree, tmp_path):
    """A restarted agent rolling back an orphan lists the refusal among the
    pass's problems (the daemon retries) instead of raising out of it."""
    binder, _ = _binder(tree, tmp_path)
    binder.attach('a1', GPU)
    _refuse_probe(tree)
    agent = reconciler.Reconciler(
        AttachmentApi(None), 'host-1', binder.journal, binder,
        VmAttacher('test:///default', tree.root, binder.journal))
    problems = agent._roll_back_orphans(active=set())
    assert len(problems) == 1 and problems[0].startswith('a1: ')
    assert binder.journal.uuids() == ['a1']
