"""The real ``cyborg-agent`` executable on sysfs trees of real device ids,
publishing to a real Placement: ``--once`` for scripts, and the daemon that
outlives Placement outages and follows device changes."""
import pathlib
import subprocess

import pytest

from cyborg_placement.placement import client as placement_client
from tests.conftest import make_conf
from tests.functional.compute_nodes import children
from tests.functional.compute_nodes import create_compute_node
from tools.harness import catalog
from tools.harness import ini
from tools.harness import sysfs_tree
from tools.harness import waiting
from tools.harness.agent_host import AGENT
from tools.harness.agent_host import Daemon
from tools.harness.agent_host import reserved
from tools.harness.launcher import LAUNCHER
from tools.harness.local_placement import LocalPlacement
from tools.harness.server_process import free_port


def _write_conf(directory: pathlib.Path, url: str, debug: bool = False,
                **agent) -> pathlib.Path:
    """The agent keeps its health memory in state_dir (also without the
    API): the test's own, not the default in /var/lib."""
    agent.setdefault('state_dir', directory / 'state')
    return ini.write(directory / 'cyborg.conf',
                     {'DEFAULT': {'debug': str(debug).lower()},
                      'placement': ini.token_auth(url), 'agent': agent})

def _sysfs(directory: pathlib.Path, functions) -> pathlib.Path:
    root = directory / f'sys-{len(list(directory.glob("sys-*")))}'
    sysfs_tree.build(root, functions)
    return root

def _once(conf_path) -> subprocess.CompletedProcess:
    return LAUNCHER.run([AGENT, '--config-file', str(conf_path), '--once'],
                        timeout=120)

def test_once_publishes_and_a_second_run_changes_nothing(
        placement, placement_server, tmp_path, unique_name):
    node = create_compute_node(placement, unique_name)
    conf = _write_conf(tmp_path, placement_server.url,
                       resource_provider_name=unique_name,
                       sysfs_root=_sysfs(tmp_path, catalog.gpu_server()))

    first = _once(conf)
    assert first.returncode == 0, first.stderr
    assert f'Created resource provider {unique_name}_GPU_10DE_2330' in (
        first.stderr)
    assert sorted(children(placement, node)) == [
        f'{unique_name}_CRYPTO_8086_4941', f'{unique_name}_GPU_10DE_2330']

    second = _once(conf)
    assert second.returncode == 0, second.stderr
    assert ' INFO ' not in second.stderr
    assert first.stdout == second.stdout == ''

def test_once_without_compute_node_fails_with_one_line(
        placement, placement_server, tmp_path, unique_name):
    conf = _write_conf(tmp_path, placement_server.url,
                       resource_provider_name=unique_name,
                       sysfs_root=_sysfs(tmp_path, catalog.gpu_server()))
    result = _once(conf)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert unique_name in lines[0] and 'manage_root_provider' in lines[0]
    assert placement.get('/resource_providers')['resource_providers'] == []

def test_once_with_placement_unreachable_fails_with_one_line(tmp_path):
    conf = _write_conf(tmp_path, f'http://127.0.0.1:{free_port()}',
                       resource_provider_name='compute-1',
                       sysfs_root=_sysfs(tmp_path, catalog.gpu_server()))
    result = _once(conf)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert 'unreachable' in lines[0].lower()
    assert 'Traceback' not in result.stderr

def test_once_without_placement_auth_fails_with_one_line(tmp_path):
    conf = ini.write(tmp_path / 'cyborg.conf', {'agent': {
        'resource_provider_name': 'compute-1', 'state_dir': tmp_path / 'state',
        'sysfs_root': _sysfs(tmp_path, catalog.gpu_server())}})
    result = _once(conf)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert '[placement] auth options' in lines[0]

def test_unwritable_state_dir_fails_at_start_with_one_line(
        placement_server, tmp_path):
    (tmp_path / 'a-file').write_text('')
    conf = ini.write(tmp_path / 'cyborg.conf', {
        'placement': ini.token_auth(placement_server.url),
        'accelerator_api': ini.token_auth('http://127.0.0.1:9'),
        'agent': {'resource_provider_name': 'compute-1',
                  'state_dir': tmp_path / 'a-file' / 'state',
                  'sysfs_root': _sysfs(tmp_path, catalog.gpu_server())}})
    result = _once(conf)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert '[agent] state_dir' in lines[0] and 'a-file' in lines[0]

def test_once_with_manage_root_provider_creates_the_root(
        placement, placement_server, tmp_path, unique_name):
    conf = _write_conf(tmp_path, placement_server.url,
                       resource_provider_name=unique_name,
                       manage_root_provider='true',
                       sysfs_root=_sysfs(tmp_path, [catalog.intel_pac_arria10(
                           '0000:3b:00.0')]))
    assert _once(conf).returncode == 0
    root = placement.get_provider_by_name(unique_name)
    (fpga,) = children(placement, root['uuid']).values()
    assert fpga['inventories']['FPGA']['total'] == 1

def _wait_for(check, what: str):
    """Wait for ``check`` while Placement may be away."""
    return waiting.wait_for(check, 90, what,
                            ignoring=(placement_client.PlacementUnreachable,))

@pytest.fixture
def stopped_placement(tmp_path):
    server = LocalPlacement(tmp_path / 'placement', forked=True)
    server.prepare()
    yield server
    server.stop()

def test_daemon_outlives_placement_outages_and_follows_devices(
        stopped_placement, tmp_path):
    server = stopped_placement
    current = tmp_path / 'sys-current'
    current.symlink_to(_sysfs(tmp_path, catalog.gpu_server()))
    # debug: each cycle logs that it is done, which the test waits for.
    conf = _write_conf(tmp_path, server.url, debug=True,
                       resource_provider_name='edge-1',
                       manage_root_provider='true', report_interval=1,
                       sysfs_root=current)
    client = placement_client.PlacementClient.from_conf(make_conf(
        tmp_path, {'placement': ini.token_auth(server.url)}))
    daemon = Daemon(conf, tmp_path / 'agent.log')
    try:
        # Placement is not there yet: the daemon keeps trying.
        _wait_for(lambda: 'Cycle failed, retrying' in daemon.stderr(),
                  what='a retry')
        assert daemon.process.poll() is None
        server.start()
        _wait_for(lambda: _pools(client) == {
            'edge-1_GPU_10DE_2330': 8, 'edge-1_CRYPTO_8086_4941': 32},
            what='first publication')

        # Nothing changes: two more cycles log nothing at INFO.
        size = len(daemon.stderr())
        _wait_for(lambda: daemon.stderr()[size:].count('Cycle done') >= 2,
                  what='two cycles after the first publication')
        assert ' INFO ' not in daemon.stderr()[size:]

        # Placement restarts while the host loses half its GPUs; the daemon
        # notices the outage before Placement is back.
        server.stop()
        current.unlink()
        current.symlink_to(_sysfs(tmp_path, catalog.gpu_server(gpus=4)))
        size = len(daemon.stderr())
        _wait_for(lambda: 'Cycle failed, retrying' in daemon.stderr()[size:],
                  what='a cycle failing while Placement is stopped')
        server.start()
        _wait_for(lambda: _pools(client) == {
            'edge-1_GPU_10DE_2330': 4, 'edge-1_CRYPTO_8086_4941': 32},
            what='convergence after the outage')
        providers = client.get('/resource_providers')['resource_providers']
        assert len(providers) == 3
    finally:
        status = daemon.stop()
    assert status == 0
    log = daemon.stderr()
    assert 'Inventory of edge-1_GPU_10DE_2330: PGPU total=4' in log
    assert 'Traceback' not in log

def _pools(client) -> dict[str, int]:
    root = client.get_provider_by_name('edge-1')
    if root is None:
        return {}
    return {name: next(iter(p['inventories'].values()))['total']
            for name, p in children(client, root['uuid']).items()
            if p['inventories']}

def test_health_memory_survives_once_runs_without_the_api(
        placement, placement_server, tmp_path, unique_name):
    """Publish-only (no [accelerator_api]), as operators run hosts that do
    no attaching: an AER fatal counter that grows between two ``--once``
    runs is growth, not a first reading, and its unit is reserved."""
    create_compute_node(placement, unique_name)
    gpus = ('0000:18:00.0', '0000:28:00.0')
    tree = sysfs_tree.build(tmp_path / 'sys',
                            [catalog.nvidia_h100_sxm(a) for a in gpus])
    conf = _write_conf(tmp_path, placement_server.url,
                       resource_provider_name=unique_name,
                       sysfs_root=tree.root)
    assert _once(conf).returncode == 0
    pool = placement.get_provider_by_name(f'{unique_name}_GPU_10DE_2330')
    assert reserved(placement, pool['uuid']) == 0

    tree.set_aer(gpus[0], fatal={'DLP': 3})
    second = _once(conf)

    assert second.returncode == 0, second.stderr
    assert reserved(placement, pool['uuid']) == 1
