"""An agent that runs as root forks its privsep daemon (no sudo): the daemon
keeps only CAP_DAC_OVERRIDE, its refusals and failed writes come back over
the channel as the agent's exceptions, a daemon killed between two calls is
forked again by the next one, and one killed during a call leaves the
attach to the next pass. The test process is the agent here."""
import os
import pathlib
import signal
import threading

import pytest

from cyborg_agent.attach_errors import AttachFailed
from cyborg_agent.attach_errors import NotSettled
from cyborg_agent.attach_errors import privileged_call
from cyborg_agent.host_attach import HostBinder
from cyborg_agent.journal import Journal
from cyborg_agent.privileged import pci
from cyborg_agent.privileged import Refused
from cyborg_agent.privileged import sysfs_pctxt
from cyborg_agent.privileged import WriteFailed
from cyborg_placement import conf as cyborg_conf
from tools.harness import catalog
from tools.harness import waiting

GPU = '0000:3b:00.0'
DAC_OVERRIDE_ONLY = f'{1 << 1:016x}'

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason='the fork method is for root agents')


@pytest.fixture
def tree(sysfs):
    sysfs.add(catalog.nvidia_t4(GPU))
    sysfs.driver_dir('vfio-pci')
    cyborg_conf.CONF.set_override('sysfs_root', str(sysfs.root), 'agent')
    yield sysfs
    forked = _daemons()
    sysfs_pctxt.stop()
    for pid in forked:  # it exits as its channel closes
        os.waitpid(pid, 0)
    cyborg_conf.CONF.clear_override('sysfs_root', 'agent')


def _cmdline(proc: pathlib.Path) -> bytes:
    try:
        return (proc / 'cmdline').read_bytes()
    except OSError:
        return b''


def _daemons() -> list[int]:
    """Children of this process: the forked daemon."""
    children = []
    for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != 'Z' \
                and _cmdline(stat.parent) == _cmdline(pathlib.Path(
                    '/proc/self')):  # a fork, not a server of a fixture
            children.append(int(stat.parent.name))
    return children


def _cap_eff(pid: int) -> str:
    for line in pathlib.Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('CapEff:'):
            return line.split()[1]
    raise AssertionError(pid)


def test_the_forked_daemon_writes_with_one_capability(tree):
    pci.set_driver_override(GPU, 'vfio-pci')
    assert (tree.bus / 'devices' / GPU / 'driver_override').read_text() \
        == 'vfio-pci'
    [daemon] = _daemons()
    assert _cap_eff(daemon) == DAC_OVERRIDE_ONLY


def test_refusals_and_failed_writes_cross_the_channel(tree):
    with pytest.raises(Refused) as refused:
        pci.set_driver_override(GPU, 'nvidia')
    assert refused.value.reason.startswith("Driver 'nvidia' is not allowed")
    (tree.bus / 'drivers_probe').unlink()
    with pytest.raises(WriteFailed) as failed:
        pci.probe(GPU)
    assert failed.value.reason.endswith('No such file or directory.')


def test_a_killed_daemon_is_forked_again_by_the_next_call(tree):
    pci.clear_driver_override(GPU)
    [first] = _daemons()
    os.kill(first, signal.SIGKILL)
    os.waitpid(first, 0)
    # oslo.privsep restarts a daemon whose channel it saw close.
    waiting.wait_for(lambda: not sysfs_pctxt.channel.running, 10,
                     'the channel closed')
    pci.set_driver_override(GPU, 'vfio-pci')
    [second] = _daemons()
    assert second != first
    assert (tree.bus / 'devices' / GPU / 'driver_override').read_text() \
        == 'vfio-pci'


def _in_fifo_open(pid: int) -> bool:
    """A thread of ``pid`` waits for the FIFO's reader."""
    return any(wchan.read_text() == 'wait_for_partner' for wchan in
               pathlib.Path(f'/proc/{pid}/task').glob('*/wchan'))


def _kill_blocked_daemons_until(done: threading.Event) -> None:
    while not done.wait(0.1):
        for pid in _daemons():
            if _in_fifo_open(pid):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def test_a_daemon_killed_during_an_attach_leaves_it_to_the_next_pass(
        tree, tmp_path):
    """``drivers_probe`` is a FIFO: the daemon's write waits there until it
    is killed. The attach is not settled, its journal entry stays, and the
    next attempt, with a new daemon, finishes it."""
    probe = tree.bus / 'drivers_probe'
    probe.unlink()
    os.mkfifo(probe)
    binder = HostBinder(tree.root, Journal(tmp_path / 'state'))
    done = threading.Event()
    killer = threading.Thread(target=_kill_blocked_daemons_until, args=(done,))
    killer.start()
    try:
        with pytest.raises(NotSettled) as caught:
            binder.attach('a1', GPU)
    finally:
        done.set()
        killer.join()
    assert str(caught.value) == ('The privileged helper stopped during '
                                 'probe: Premature eof waiting for '
                                 'privileged process')
    assert binder.journal.get('a1')['original_driver'] == 'nvidia'

    probe.unlink()
    probe.write_text('')
    waiting.wait_for(lambda: not sysfs_pctxt.channel.running, 10,
                     'the channel closed')
    assert binder.attach('a1', GPU) is True
    assert probe.read_text() == GPU
    assert binder.journal.get('a1')['done'] is True


def test_a_helper_command_that_cannot_run_fails_the_attach(tree):
    cyborg_conf.CONF.set_override('helper_command', '/nonexistent/helper',
                                  'privsep_sysfs')
    try:
        with pytest.raises(AttachFailed) as caught:
            privileged_call(pci, 'probe', GPU)
    finally:
        cyborg_conf.CONF.clear_override('helper_command', 'privsep_sysfs')
    assert caught.value.reason == (
        'The privileged helper (oslo.privsep, [privsep_sysfs]) did not '
        "start: its command could not run: [Errno 2] No such file or "
        "directory: '/nonexistent/helper'. Check its helper_command and the "
        'sudoers rule for privsep-helper.')
    assert sysfs_pctxt.channel is None  # the next call tries again
