"""Runs of ``cyborg-agent``, ``cyborg-api`` and gunicorn (serving Placement)
forked by tools/harness/launcher.py behave as the installed console
scripts': the same output and exit status, a pid the test can signal, a
timeout that stops the run, a server whose workers go with it."""
import os
import pathlib
import signal
import subprocess

import pytest
import requests

from tools.harness import catalog
from tools.harness import ini
from tools.harness import sysfs_tree
from tools.harness import waiting
from tools.harness.agent_host import AGENT
from tools.harness.api_server import ApiServer
from tools.harness.api_server import OWN_BIN_DIR
from tools.harness.api_server import VERSION_HEADER
from tools.harness.launcher import LaunchedProcess
from tools.harness.launcher import LAUNCHER
from tools.harness.local_placement import LocalPlacement
from tools.harness.server_process import free_port


@pytest.fixture
def unreachable_conf(tmp_path):
    """An agent whose Placement and API listen nowhere."""
    tree = sysfs_tree.build(tmp_path / 'sys', [
        catalog.nvidia_t4('0000:3b:00.0'), catalog.habana_gaudi2('0000:3d:00.0')])
    nowhere = f'http://127.0.0.1:{free_port()}'
    conf = tmp_path / 'cyborg-agent.conf'
    ini.write(conf, {'placement': ini.token_auth(nowhere),
                     'accelerator_api': ini.token_auth(nowhere),
                     'agent': {'sysfs_root': tree.root,
                               'resource_provider_name': 'launched',
                               'state_dir': tmp_path / 'state'}})
    return conf


def _both(argv: list[str]) -> tuple[subprocess.CompletedProcess, ...]:
    return (subprocess.run(argv, capture_output=True, text=True, timeout=120),
            LAUNCHER.run(argv, timeout=120))


def test_discover_prints_the_same_as_the_executable(unreachable_conf):
    installed, launched = _both([AGENT, '--config-file', str(unreachable_conf),
                                 'discover', '--format', 'json'])
    assert installed.returncode == launched.returncode == 0, launched.stderr
    assert '0000:3d:00.0' in launched.stdout
    assert launched.stdout == installed.stdout
    assert launched.stderr == installed.stderr


def test_a_failing_run_ends_as_the_executables_does(unreachable_conf):
    installed, launched = _both([AGENT, '--config-file', str(unreachable_conf),
                                 '--once'])
    assert installed.returncode == launched.returncode == 1
    # The last line names the problem; lines before it are log lines with
    # their own times and pids.
    last = launched.stderr.strip().splitlines()[-1]
    assert last.startswith('cyborg-agent: error: Placement unreachable')
    assert last == installed.stderr.strip().splitlines()[-1]


def test_a_bad_option_is_argparses_error_in_both(unreachable_conf):
    installed, launched = _both([AGENT, '--config-file', str(unreachable_conf),
                                 '--no-such-option'])
    assert installed.returncode == launched.returncode == 2
    assert launched.stderr == installed.stderr
    assert 'cyborg-agent: error: unrecognized arguments: --no-such-option' \
        in launched.stderr


def test_a_signalled_run_reports_the_signal(unreachable_conf):
    """The daemon (no ``--once``) keeps retrying the Placement it cannot
    reach; SIGKILL ends it, as ``subprocess`` reports a signal."""
    process = LAUNCHER.start([AGENT, '--config-file', str(unreachable_conf)],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    assert process.poll() is None
    process.send_signal(signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL


def test_a_run_past_its_timeout_is_stopped(unreachable_conf):
    with pytest.raises(subprocess.TimeoutExpired):
        LAUNCHER.run([AGENT, '--config-file', str(unreachable_conf)],
                     timeout=2)


def test_the_api_given_a_config_it_cannot_use_says_what_the_executable_says(
        tmp_path):
    missing = tmp_path / 'cyborg.conf'
    installed, launched = _both([str(OWN_BIN_DIR / 'cyborg-api'),
                                 '--config-file', str(missing)])
    assert installed.returncode == launched.returncode == 1
    assert launched.stderr == installed.stderr
    assert launched.stderr.startswith('cyborg-api: error: ')


def _children(pid: int) -> set[int]:
    return {int(child) for child in
            pathlib.Path(f'/proc/{pid}/task/{pid}/children').read_text().split()}


def _api(tmp_path, placement_server) -> tuple[ApiServer, str, int]:
    return (ApiServer.on_sqlite(tmp_path, placement_server.url, workers=2),
            '/accelerators', 2)


def _placement(tmp_path, placement_server) -> tuple[LocalPlacement, str, int]:
    """gunicorn serving Placement, one worker (SQLite's one writer)."""
    return LocalPlacement(tmp_path, forked=True), '/resource_providers', 1


@pytest.mark.parametrize('make', [_api, _placement], ids=['cyborg-api',
                                                          'placement'])
def test_a_launched_server_serves_and_its_workers_stop_with_it(
        make, tmp_path, placement_server):
    """The server is a forked run in a session of its own: its gunicorn
    workers are its children, and SIGTERM to its group ends them all, with
    gunicorn's exit status."""
    server, path, worker_count = make(tmp_path, placement_server)
    server.start()
    try:
        assert isinstance(server.process, LaunchedProcess)
        assert os.getsid(server.process.pid) == server.process.pid
        answer = requests.get(server.url + path, timeout=30, headers={
            'X-Auth-Token': 'admin', **VERSION_HEADER})
        assert answer.status_code == 200, answer.text
        # The master answers through its first worker; the others follow.
        waiting.wait_for(
            lambda: len(_children(server.process.pid)) == worker_count, 30,
            f'{worker_count} workers under the launched master')
        workers = _children(server.process.pid)
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert not [pid for pid in workers
                if pathlib.Path(f'/proc/{pid}').exists()]
    assert 'Traceback' not in server.log_path.read_text()


def test_gunicorn_launched_says_what_the_executable_says():
    installed, launched = _both([str(OWN_BIN_DIR / 'gunicorn'), '--version'])
    assert installed.returncode == launched.returncode == 0
    assert launched.stdout == installed.stdout
    assert launched.stdout.startswith('gunicorn (version ')
