"""The real agent as the ``cyborg`` user, its root writes through the
oslo.privsep helper that ``sudo`` starts (etc/sudoers.d/cyborg-agent, with
this checkout's paths), against the real API and Placement.

Discovery, publication, the device report and the reconciler run as
``cyborg`` on a tree whose files belong to root with mode 0644; the tree ends
as root wrote it, apart from what the attach and detach wrote. Without the
privsep configuration the attachment fails with the reason and nothing is
lost; a helper killed mid-run is started again by the next attach.

CI runs as root: the test creates the user if it is missing and installs
its sudoers rule for its own duration.
"""
import os
import pathlib
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import uuid

import pytest

from tools.harness import agent_host as support
from tools.harness import service_user
from tools.harness import waiting

REPO = pathlib.Path(__file__).resolve().parents[2]
USER = 'cyborg'
HELPER = str(pathlib.Path(sys.executable).parent / 'privsep-helper')
GPU, OTHER_GPU = support.GPUS
#: CAP_DAC_OVERRIDE alone, as /proc/PID/status shows an effective set.
DAC_OVERRIDE_ONLY = f'{1 << 1:016x}'

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason='creates a user and a sudoers rule: run as '
    'root, as CI does')


@pytest.fixture
def workdir():
    """A directory the service user can traverse (pytest's own temporary
    directories under /tmp/pytest-of-root are root's alone)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix='cyborg-unprivileged-'))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def host(placement, placement_server, api_server, workdir, unique_name):
    """Two T4s; the agent as ``cyborg`` publishes them (first ``--once``)."""
    user = service_user.ensure_user(USER)
    state = workdir / 'state'
    state.mkdir(mode=0o700)
    os.chown(state, user.pw_uid, user.pw_gid)
    previous = os.umask(0o022)  # the tree as root writes it: 0644, 0755
    try:
        return support.make_agent_host(
            placement, workdir, unique_name, api_server.url,
            placement_server.url, user=USER)
    finally:
        os.umask(previous)


def _sudoers_rule(conf_file: pathlib.Path) -> str:
    """The shipped rule, with this checkout's helper and config file."""
    text = (REPO / 'etc' / 'sudoers.d' / 'cyborg-agent').read_text()
    text = text.replace('/usr/bin/privsep-helper', HELPER)
    return text.replace(r'/etc/cyborg/cyborg\.conf',
                        re.escape(str(conf_file)))


@pytest.fixture
def sudoers_rule(workdir):
    """Install the shipped rule for a config file, as an operator does
    (``visudo -cf``, mode 0440); removed at the end."""
    installed = []

    def install(conf_file: pathlib.Path) -> None:
        staged = workdir / 'sudoers'
        staged.write_text(_sudoers_rule(conf_file))
        checked = subprocess.run(['visudo', '-cf', str(staged)],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        staged.chmod(0o440)
        rule = pathlib.Path('/etc/sudoers.d') / (
            f'cyborg-test-{uuid.uuid4().hex}')  # no '.': sudo skips those
        shutil.copy2(staged, rule)
        installed.append(rule)
    yield install
    for rule in installed:
        rule.unlink()


@pytest.fixture
def privsep(host, sudoers_rule):
    """The operator's part: the sudoers rule and ``[privsep_sysfs]``."""
    sudoers_rule(host.conf_file)
    host.sections['privsep_sysfs'] = {
        'helper_command': f'sudo -n {HELPER} --config-file {host.conf_file}'}
    host.write_conf()
    return host


SOCKET = '/tmp/tmpab_12cd/privsep.sock'
CONTEXT = 'cyborg_agent.privileged.sysfs_pctxt'


@pytest.mark.parametrize('tail, allowed', [
    (['--privsep_context', CONTEXT, '--privsep_sock_path', SOCKET], True),
    (['--privsep_context', CONTEXT, '--privsep_sock_path', SOCKET,
      '--config-file', '/tmp/mine.conf'], False),
    (['--privsep_context', 'nova.privsep.sys_admin_pctxt',
      '--privsep_sock_path', SOCKET], False),
    (['--privsep_context', CONTEXT, '--privsep_sock_path',
      '/home/cyborg/privsep.sock'], False),
    (['--privsep_context', CONTEXT, '--privsep_sock_path',
      '/tmp/tmpab/../../etc/privsep.sock'], False),
])
def test_the_sudoers_rule_allows_the_helper_and_nothing_more(
        workdir, sudoers_rule, tail, allowed):
    """``sudo -l`` as ``cyborg``: the helper, as oslo.privsep starts it,
    and not with another config file (another sysfs root), another
    context or a socket elsewhere."""
    service_user.ensure_user(USER)
    conf_file = workdir / 'cyborg.conf'
    sudoers_rule(conf_file)
    listed = subprocess.run(service_user.command(USER, [
        'sudo', '-n', '-l', HELPER, '--config-file', str(conf_file),
        *tail]), capture_output=True, text=True)
    assert (listed.returncode == 0) is allowed, listed.stderr


def _tree_files(root: pathlib.Path) -> dict[str, tuple[int, int, int]]:
    """Each file of the tree: owner, group and mode."""
    found = {}
    for path in root.rglob('*'):
        if path.is_file() and not path.is_symlink():
            info = path.lstat()
            found[str(path.relative_to(root))] = (
                info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode))
    return found


def _state(admin, accel) -> dict:
    return admin.get(f'/accelerators/{accel["uuid"]}').json()['attachment']


def test_the_tree_belongs_to_root_and_the_agent_to_cyborg(host):
    files = _tree_files(host.sysfs.root)
    assert set(files.values()) == {(0, 0, 0o644)}
    owners = {path.stat().st_uid for path in host.state_dir.rglob('*')}
    assert owners == {pwd.getpwnam(USER).pw_uid}  # what the agent saved


def test_host_attach_and_detach_through_the_helper(admin, placement,
                                                   privsep):
    host = privsep
    before = _tree_files(host.sysfs.root)
    accel = support.accelerator(admin, host.name, GPU)
    assert admin.put(f'/accelerators/{accel["uuid"]}',
                     json={'host': host.name}).status_code == 200

    host.settle()
    assert _state(admin, accel)['state'] == 'attached'
    assert host.read(GPU, 'driver_override') == 'vfio-pci'
    assert (host.sysfs.bus / 'drivers_probe').read_text() == GPU

    assert admin.delete(f'/accelerators/{accel["uuid"]}').status_code == 204
    host.settle()
    assert _state(admin, accel)['state'] == 'detached'
    assert host.read(GPU, 'driver_override') == '\n'
    assert support.pool_usage(placement, accel['pool_provider_uuid']) == 0
    assert host.journal() == []
    assert _tree_files(host.sysfs.root) == before  # no file made, none given


def test_without_the_privsep_configuration_the_attach_fails_with_the_reason(
        admin, placement, host):
    """No sudoers rule: ``sudo -n`` refuses, the attachment fails with what
    to configure, the claim is released and the unit is free for the next
    attach, which works once the operator has configured the helper."""
    accel = support.accelerator(admin, host.name, GPU)
    pool = accel['pool_provider_uuid']
    before = host.read(GPU, 'driver_override')
    assert admin.put(f'/accelerators/{accel["uuid"]}',
                     json={'host': host.name}).status_code == 200

    done = host.settle()
    attachment = _state(admin, accel)
    assert attachment['state'] == 'attach_failed'
    assert attachment['reason'] == (
        f'On host {host.name}: The privileged helper (oslo.privsep, '
        '[privsep_sysfs]) did not start: privsep helper command exited '
        'non-zero (1). Check its helper_command and the sudoers rule for '
        'privsep-helper.')
    assert 'a password is required' in done.stderr  # sudo's own word
    assert support.pool_usage(placement, pool) == 0
    assert host.read(GPU, 'driver_override') == before
    assert host.journal() == []


def test_the_next_attach_after_a_refusal_works_once_configured(
        admin, placement, host, request):
    accel = support.accelerator(admin, host.name, GPU)
    admin.put(f'/accelerators/{accel["uuid"]}', json={'host': host.name})
    host.settle()
    assert _state(admin, accel)['state'] == 'attach_failed'

    request.getfixturevalue('privsep')
    assert admin.put(f'/accelerators/{accel["uuid"]}',
                     json={'host': host.name}).status_code == 200
    host.settle()
    assert _state(admin, accel)['state'] == 'attached'
    assert host.read(GPU, 'driver_override') == 'vfio-pci'


def _helpers(conf_file: pathlib.Path) -> list[int]:
    """The privsep daemons serving this agent (the helper's forked child)."""
    found = []
    for entry in pathlib.Path('/proc').iterdir():
        try:
            argv = (entry / 'cmdline').read_bytes().split(b'\0')
        except OSError:
            continue
        if any(arg.endswith(b'privsep-helper') for arg in argv[:2]) \
                and str(conf_file).encode() in argv:
            found.append(int(entry.name))
    return found


def _status(pid: int, key: str) -> str:
    for line in pathlib.Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith(key + ':'):
            return line.split()[1]
    raise AssertionError(f'no {key} for {pid}')


@pytest.fixture
def agent_daemon(privsep):
    """``cyborg-agent`` as a daemon, as the ``cyborg`` user."""
    host = privsep
    with open(host.conf_file, 'a') as conf:  # [agent] is the last section
        conf.write('reconcile_interval = 1\nperiodic_fuzzy_delay = 0\n')
    log = host.workdir / 'agent.log'
    with open(log, 'wb') as out:
        process = subprocess.Popen(host.command(), stdout=subprocess.DEVNULL,
                                   stderr=out)
    yield process, log
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0, log.read_text()
    waiting.wait_for(lambda: _helpers(host.conf_file) == [], 30,
                     'the helper gone with its agent')


def _attached(admin, accel) -> bool:
    return (_state(admin, accel) or {}).get('state') == 'attached'


def test_a_killed_helper_is_started_again_by_the_next_attach(
        admin, placement, privsep, agent_daemon):
    host = privsep
    process, log = agent_daemon
    first, second = (support.accelerator(admin, host.name, a)
                     for a in (GPU, OTHER_GPU))
    admin.put(f'/accelerators/{first["uuid"]}', json={'host': host.name})
    waiting.wait_for(lambda: _attached(admin, first), 60, 'first attach')
    [helper] = _helpers(host.conf_file)
    # root's uid, no other capability than CAP_DAC_OVERRIDE
    assert _status(helper, 'Uid') == '0'
    assert _status(helper, 'CapEff') == DAC_OVERRIDE_ONLY
    assert _status(helper, 'CapPrm') == DAC_OVERRIDE_ONLY

    os.kill(helper, signal.SIGKILL)
    waiting.wait_for(lambda: helper not in _helpers(host.conf_file), 30,
                     'the helper killed')
    admin.put(f'/accelerators/{second["uuid"]}', json={'host': host.name})
    waiting.wait_for(lambda: _attached(admin, second), 60,
                     'second attach, by a new helper')
    [restarted] = _helpers(host.conf_file)
    assert restarted != helper
    assert host.read(OTHER_GPU, 'driver_override') == 'vfio-pci'

    for accel in (first, second):
        assert admin.delete(f'/accelerators/{accel["uuid"]}').status_code \
            == 204
    waiting.wait_for(lambda: {_state(admin, a)['state'] for a in (
        first, second)} == {'detached'}, 60, 'both detached')
    assert host.read(GPU, 'driver_override') == '\n'
    assert host.read(OTHER_GPU, 'driver_override') == '\n'
    assert process.poll() is None
    assert 'Traceback' not in log.read_text()
