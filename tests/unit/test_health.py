"""Unit health, judged cycle by cycle from sysfs trees of real device ids
that fail as real devices do, and from a real ``nvidia-smi`` executable on
PATH printing the XML report of GPUs in error states."""
import json

import pytest

from cyborg_agent import discovery
from cyborg_agent import health
from cyborg_agent import saved_state
from cyborg_agent.discovery import signals
from cyborg_agent.discovery.plugins import nvidia
from tests.conftest import make_conf
from tools.harness import catalog
from tools.harness import nvidia_smi
from tools.harness import sysfs_tree

H100 = ['0000:18:00.0', '0000:28:00.0']
QAT = '0000:6b:00.0'


@pytest.fixture
def host(sysfs):
    return sysfs.add_all([catalog.nvidia_h100_sxm(H100[0]),
                          catalog.nvidia_h100_sxm(H100[1], numa_node=1),
                          catalog.intel_qat_4xxx(QAT, vfs=4)])


class Cycles:
    """The daemon's judgement, one ``cycle()`` per publication cycle."""

    def __init__(self, host, tmp_path, recovery_cycles=2, state_dir=None):
        self.conf = make_conf(tmp_path, {'agent': {
            'sysfs_root': host.root,
            'health_recovery_cycles': recovery_cycles}})
        self.saved = state_dir and saved_state.StateFile(state_dir, 'health')
        self.tracker = health.Tracker(recovery_cycles, self.saved)

    def cycle(self) -> dict[str, health.Health]:
        devices = discovery.discover_devices(self.conf, enrich=False)
        return self.tracker.update(health.observe(
            devices, discovery.plugin_problems(devices, self.conf)))

    def sick(self) -> dict[str, str]:
        return {address: judged.reason
                for address, judged in self.cycle().items()
                if not judged.healthy}


def test_the_kernels_aer_format_is_read():
    text = sysfs_tree.aer_text('TOTAL_ERR_FATAL', {'DLP': 2, 'MalfTLP': 1})
    assert text.splitlines()[1] == 'DLP 2'
    assert signals.parse_aer(text, 'TOTAL_ERR_FATAL') == 3
    assert signals.parse_aer('DLP 1\nSDES 4\n', 'TOTAL_ERR_FATAL') == 5
    assert signals.parse_aer('garbage', 'TOTAL_ERR_FATAL') is None


def test_counters_that_grow_make_a_unit_unhealthy_until_it_stays_quiet(
        host, tmp_path):
    host.set_aer(H100[0], nonfatal={'CmpltTO': 3})
    cycles = Cycles(host, tmp_path)
    assert cycles.sick() == {}  # errors from before: no growth seen

    host.set_aer(H100[0], nonfatal={'CmpltTO': 5})
    assert cycles.sick() == {H100[0]: f'AER aer_dev_nonfatal of {H100[0]} '
                                      'grew from 3 to 5'}
    since = cycles.tracker.units[H100[0]].since
    assert list(cycles.sick()) == [H100[0]]  # 1 quiet cycle of 2
    host.set_aer(H100[0], fatal={'SDES': 1}, nonfatal={'CmpltTO': 5})
    assert 'aer_dev_fatal' in cycles.sick()[H100[0]]  # the streak restarts
    assert cycles.tracker.units[H100[0]].since == since
    assert list(cycles.sick()) == [H100[0]]
    assert cycles.sick() == {}  # 2 quiet cycles in a row


def test_a_pf_in_error_takes_its_vfs_with_it(host, tmp_path):
    cycles = Cycles(host, tmp_path)
    cycles.cycle()
    host.set_aer(QAT, fatal={'DLP': 1})
    sick = cycles.sick()
    assert sorted(sick) == [catalog._vf_address(QAT, i) for i in range(4)]
    assert all(reason == f'AER aer_dev_fatal of {QAT} grew from 0 to 1'
               for reason in sick.values())


def test_config_space_or_driver_gone(host, tmp_path):
    cycles = Cycles(host, tmp_path)
    host.stop_answering(H100[1])
    assert cycles.sick() == {H100[1]: 'config space reads all ones: the '
                                      'function does not answer'}
    host.unload_driver('4xxx')
    sick = cycles.sick()
    assert sick[catalog._vf_address(QAT, 0)] == (
        f'PF {QAT}: driver 4xxx is gone')
    assert len(sick) == 5


def test_a_vf_lost_under_its_pf_stays_a_unit_and_is_unhealthy(
        host, tmp_path):
    lost = catalog._vf_address(QAT, 2)
    host.lose_function(lost)
    units = {u.address: u for u in discovery.discover_units(Cycles(
        host, tmp_path).conf)}
    assert len(units) == 6
    assert (units[lost].vendor_id, units[lost].product_id,
            units[lost].physfn) == ('8086', '4941', QAT)
    assert Cycles(host, tmp_path).sick() == {
        lost: 'the function is gone from sysfs (its PF still lists it)'}


def test_a_restarted_agent_remembers(host, tmp_path):
    state_dir = tmp_path / 'state'
    first = Cycles(host, tmp_path, state_dir=state_dir)
    first.cycle()
    host.set_aer(H100[0], nonfatal={'TLP': 1})
    assert list(first.sick()) == [H100[0]]

    again = Cycles(host, tmp_path, state_dir=state_dir)
    assert list(again.sick()) == [H100[0]]  # no growth, 1 quiet cycle
    assert again.sick() == {}
    assert json.loads(again.saved.path.read_text())[
        H100[0]]['healthy'] is True


def test_nvidia_smi_error_states(host, tmp_path, bin_dir):
    nvidia_smi.install(bin_dir, [
        nvidia_smi.GpuState(H100[0]),
        nvidia_smi.GpuState(H100[1], dram_uncorrectable=2,
                            remapped_row_pending=True,
                            recovery_action='Reset')])
    cycles = Cycles(host, tmp_path)
    assert cycles.sick() == {H100[1]: (
        'nvidia-smi: remapped rows pending; nvidia-smi: 2 volatile '
        'uncorrectable (double-bit) ECC error(s) (dram_uncorrectable); '
        'nvidia-smi: recovery action required: Reset')}

    nvidia_smi.set_states(bin_dir, [
        nvidia_smi.GpuState(H100[0], product='Tesla V100-SXM2-32GB',
                            pending_retirement=True),
        nvidia_smi.GpuState(H100[1])])
    sick = cycles.sick()
    assert sick[H100[0]] == 'nvidia-smi: retired pages pending'
    assert H100[1] in sick  # recovering: 1 healthy cycle of 2


def test_without_a_usable_nvidia_smi_sysfs_signals_still_apply(
        host, tmp_path, bin_dir, caplog):
    (bin_dir / 'nvidia-smi').write_text('#!/bin/sh\necho "<nvidia_smi_log"\n')
    (bin_dir / 'nvidia-smi').chmod(0o755)
    cycles = Cycles(host, tmp_path)
    host.stop_answering(H100[0])
    assert list(cycles.sick()) == [H100[0]]
    assert any('no usable report' in r.getMessage() for r in caplog.records)


def test_a_report_that_is_not_nvidia_smis_is_refused():
    with pytest.raises(ValueError, match='unexpected XML root'):
        nvidia.parse_health('<html/>')
