"""Host attachments on sysfs trees: the privileged calls, their order, the
restore, the journal a restarted agent restores from, and the refusals.

The privileged entry points run in the test process as they run in the
daemon (``privileged_here``), so the files of the tree show their effect."""
import json

import pytest

from cyborg_agent import host_attach
from cyborg_agent import host_drivers
from cyborg_agent import reconciler
from cyborg_agent.attach_errors import AttachFailed
from cyborg_agent.attach_errors import NotSettled
from cyborg_agent.attachment_api import AttachmentApi
from cyborg_agent.discovery.rules import InvalidRule
from cyborg_agent.journal import Journal
from cyborg_agent.privileged import pci
from cyborg_agent.vm_attach import VmAttacher
from cyborg_placement import conf as cyborg_conf
from tools.harness import catalog

GPU = '0000:3b:00.0'


@pytest.fixture
def tree(sysfs):
    sysfs.add(catalog.nvidia_t4(GPU))
    sysfs.driver_dir('vfio-pci')
    return sysfs


class Recorder:
    """The real entry points, remembering each call and its arguments."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(*args):
            self.calls.append((name, *args))
            getattr(pci, name)(*args)
        return call


def _binder(tree, tmp_path, privileged_here, **agent):
    """A binder and the daemon's side configured alike with ``agent``."""
    privileged_here(tree.root, **agent)
    recorder = Recorder()
    binder = host_attach.HostBinder.from_conf(
        cyborg_conf.CONF, Journal(tmp_path / 'state'), recorder)
    return binder, recorder


@pytest.fixture
def binder(tree, tmp_path, privileged_here):
    return _binder(tree, tmp_path, privileged_here)


def test_attach_unbinds_overrides_probes_in_that_order(tree, binder):
    binder, recorder = binder
    assert binder.attach('a1', GPU) is True
    assert recorder.calls == [('unbind', GPU),
                              ('set_driver_override', GPU, 'vfio-pci'),
                              ('probe', GPU)]
    assert (tree.bus / 'drivers/nvidia/unbind').read_text() == GPU
    assert (tree.bus / f'devices/{GPU}/driver_override').read_text() \
        == 'vfio-pci'
    assert (tree.bus / 'drivers_probe').read_text() == GPU
    assert binder.journal.get('a1')['original_driver'] == 'nvidia'


def test_second_attach_writes_nothing(binder):
    binder, recorder = binder
    binder.attach('a1', GPU)
    recorder.calls.clear()
    assert binder.attach('a1', GPU) is False
    assert recorder.calls == []


def test_restarted_agent_restores_from_the_journal(tree, tmp_path,
                                                   privileged_here):
    first, _ = _binder(tree, tmp_path, privileged_here)
    first.attach('a1', GPU)
    restarted, recorder = _binder(tree, tmp_path, privileged_here)
    assert restarted.detach('a1', GPU) is True
    assert recorder.calls == [('clear_driver_override', GPU),
                              ('unbind', GPU), ('probe', GPU)]
    assert (tree.bus / f'devices/{GPU}/driver_override').read_text() == '\n'
    assert restarted.journal.get('a1') is None
    assert restarted.detach('a1', GPU) is False  # done: nothing more


def test_an_operator_override_comes_back(tree, tmp_path, privileged_here):
    (tree.bus / f'devices/{GPU}/driver_override').write_text('nvidia\n')
    binder, _ = _binder(tree, tmp_path, privileged_here,
                        host_attach_allowed_drivers=['nvidia'])
    binder.attach('a1', GPU)
    binder.detach('a1', GPU)
    assert (tree.bus / f'devices/{GPU}/driver_override').read_text() \
        == 'nvidia'


def test_an_override_that_could_not_be_restored_refuses_the_attach(
        tree, binder):
    (tree.bus / f'devices/{GPU}/driver_override').write_text('nvidia\n')
    binder, recorder = binder
    with pytest.raises(AttachFailed) as caught:
        binder.attach('a1', GPU)
    assert caught.value.reason.startswith(
        'Driver nvidia is not allowed for host attachments on this host '
        "(a detach must restore it as the unit's driver_override)")
    assert recorder.calls == [] and binder.journal.uuids() == []


def test_unbound_device_is_not_unbound(sysfs, tmp_path, privileged_here):
    unbound = '0000:4d:00.0'
    sysfs.add(catalog.habana_gaudi2(unbound))
    sysfs.driver_dir('vfio-pci')
    (sysfs.bus / f'devices/{unbound}/driver').unlink()
    binder, recorder = _binder(sysfs, tmp_path, privileged_here)
    binder.attach('a1', unbound)
    assert [name for name, *_ in recorder.calls] == [
        'set_driver_override', 'probe']


def test_operator_rule_names_the_driver(tree, tmp_path, privileged_here):
    tree.driver_dir('nvidia-vgpu-vfio')
    binder, recorder = _binder(tree, tmp_path, privileged_here,
                               host_attach_rule=[
        '{"vendor_id": "8086", "driver": "qat"}',
        '{"vendor_id": "10DE", "product_id": "1eb8", '
        '"driver": "nvidia-vgpu-vfio"}'])
    binder.attach('a1', GPU)
    assert ('set_driver_override', GPU, 'nvidia-vgpu-vfio') in recorder.calls


def test_a_requested_driver_outside_the_allowed_set_changes_nothing(
        tree, binder):
    tree.driver_dir('pci-stub')
    binder, recorder = binder
    with pytest.raises(AttachFailed) as caught:
        binder.attach('a1', GPU, 'pci-stub')
    assert caught.value.reason == (
        'Driver pci-stub is not allowed for host attachments on this host '
        '(the attach request names it); allowed: vfio-pci, see [agent] '
        'host_attach_allowed_drivers.')
    assert recorder.calls == [] and binder.journal.uuids() == []


def test_an_allowed_requested_driver_is_bound(tree, tmp_path,
                                             privileged_here):
    tree.driver_dir('pci-stub')
    binder, recorder = _binder(tree, tmp_path, privileged_here,
                               host_attach_allowed_drivers=['pci-stub'])
    binder.attach('a1', GPU, 'pci-stub')
    assert ('set_driver_override', GPU, 'pci-stub') in recorder.calls


def test_rule_ids_are_read_like_discovery_rules():
    rule = host_drivers.parse_driver_rule(
        '{"vendor_id": "0x10DE", "address": "0000:3B:*", "driver": "x"}')
    assert rule.matches('0000:3b:00.0', '10de', '1eb8')
    assert not rule.matches('0000:3c:00.0', '10de', '1eb8')


def test_allowed_drivers_are_the_default_the_rules_and_the_list(conf):
    conf.set_override('host_attach_rule', [json.dumps(
        {'vendor_id': '8086', 'driver': '4xxxvf'})], 'agent')
    conf.set_override('host_attach_allowed_drivers', ['pci-stub'], 'agent')
    assert host_drivers.allowed(conf) == {'vfio-pci', '4xxxvf', 'pci-stub'}


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
        host_drivers.parse_driver_rule(text)
    assert text in str(caught.value) and part in str(caught.value)


def test_missing_driver_changes_nothing(tree, tmp_path, privileged_here):
    binder, recorder = _binder(tree, tmp_path, privileged_here,
                               host_attach_driver='igb_uio')
    with pytest.raises(AttachFailed) as caught:
        binder.attach('a1', GPU)
    assert 'Driver igb_uio is not loaded' in caught.value.reason
    assert recorder.calls == [] and binder.journal.uuids() == []


def test_device_gone(binder):
    binder, _ = binder
    with pytest.raises(AttachFailed) as caught:
        binder.attach('a1', '0000:99:00.0')
    assert 'PCI device 0000:99:00.0 is gone' in caught.value.reason


def _refuse_probe(tree):
    probe = tree.bus / 'drivers_probe'
    probe.unlink()
    probe.mkdir()  # any write to it fails, as a kernel refusal would


def test_refused_write_names_the_file(tree, binder):
    _refuse_probe(tree)
    binder, _ = binder
    with pytest.raises(AttachFailed) as caught:
        binder.attach('a1', GPU)
    assert caught.value.reason == (
        f"Writing '{GPU}' to {tree.bus / 'drivers_probe'} failed: "
        'Is a directory.')
    # The journal still holds the original driver, for the roll-back.
    assert binder.journal.get('a1')['original_driver'] == 'nvidia'


def test_a_refused_first_write_leaves_nothing_to_roll_back(tree, binder):
    unbind = tree.bus / 'drivers' / 'nvidia' / 'unbind'
    unbind.unlink()
    unbind.mkdir()
    binder, _ = binder
    with pytest.raises(AttachFailed):
        binder.attach('a1', GPU)
    assert binder.journal.uuids() == []


def test_refused_restore_is_tried_again(tree, binder):
    binder, _ = binder
    binder.attach('a1', GPU)
    _refuse_probe(tree)
    with pytest.raises(NotSettled) as caught:
        binder.detach('a1', GPU)
    assert 'drivers_probe' in str(caught.value)
    # Still bound to the host driver: the record stays for the next pass.
    assert binder.journal.get('a1')['original_driver'] == 'nvidia'


def test_refused_roll_back_is_a_problem_of_the_pass(tree, binder):
    """A restarted agent rolling back an orphan lists the refusal among the
    pass's problems (the daemon retries) instead of raising out of it."""
    binder, _ = binder
    binder.attach('a1', GPU)
    _refuse_probe(tree)
    agent = reconciler.Reconciler(
        AttachmentApi(None), 'host-1', binder.journal, binder,
        VmAttacher('test:///default', tree.root, binder.journal))
    problems = agent._roll_back_orphans(active=set())
    assert len(problems) == 1 and problems[0].startswith('a1: ')
    assert binder.journal.uuids() == ['a1']
