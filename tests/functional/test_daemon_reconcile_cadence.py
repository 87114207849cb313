"""The daemon reconciles on ``[agent] reconcile_interval``, between publication
cycles: a REST attach is performed by the real ``cyborg-agent`` daemon long
before its next publication, and each loop keeps going while the other's
service is away."""
import time

import pytest

from tests.functional.compute_nodes import children
from tests.functional.compute_nodes import create_compute_node
from tools.harness import agent_host as support
from tools.harness import catalog
from tools.harness import sysfs_tree
from tools.harness import waiting
from tools.harness.agent_host import Daemon
from tools.harness.server_process import free_port

GPU = support.GPUS[0]


def _configure(host: support.AgentHost, **agent) -> None:
    """The host's cyborg.conf plus ``agent`` options ([agent] comes last)."""
    host.write_conf()
    with open(host.conf_file, 'a') as conf:
        conf.writelines(f'{key} = {value}\n' for key, value in agent.items())


def _until(check, deadline: float, what: str) -> None:
    """Wait for ``check`` until ``deadline`` (monotonic)."""
    waiting.wait_for(check, deadline - time.monotonic(), what)


def _state(admin, accel) -> str | None:
    shown = admin.get(f'/accelerators/{accel["uuid"]}').json()
    return (shown['attachment'] or {}).get('state')


@pytest.fixture
def host(placement, placement_server, api_server, tmp_path, unique_name):
    return support.make_agent_host(placement, tmp_path, unique_name,
                                   api_server.url, placement_server.url)


@pytest.fixture
def daemons():
    started = []

    def start(host: support.AgentHost) -> Daemon:
        daemon = Daemon(host.conf_file, host.workdir / f'agent-{len(started)}'
                        '.log')
        started.append(daemon)
        return daemon
    yield start
    for daemon in started:
        assert daemon.stop() == 0, daemon.stderr()
        assert 'Traceback' not in daemon.stderr()


def test_rest_attach_is_done_before_the_next_publication(admin, placement,
                                                         host, daemons):
    _configure(host, report_interval=60, reconcile_interval=1)
    started = time.monotonic()
    daemon = daemons(host)
    # The first publication runs at start; the next one cannot run before
    # report_interval has passed since then.
    next_publication = started + 60
    _until(lambda: 'Publishing to Placement under' in daemon.stderr(),
           next_publication, 'daemon started')
    accel = support.accelerator(admin, host.name, GPU)

    assert admin.put(f'/accelerators/{accel["uuid"]}',
                     json={'host': host.name}).status_code == 200
    _until(lambda: _state(admin, accel) == 'attached', next_publication,
           'attached by a reconcile pass')
    assert host.read(GPU, 'driver_override') == 'vfio-pci'

    assert admin.delete(f'/accelerators/{accel["uuid"]}').status_code == 204
    _until(lambda: _state(admin, accel) == 'detached', next_publication,
           'detached by a reconcile pass')
    assert host.read(GPU, 'driver_override') == '\n'
    # The record turns final first, then its claim is released (docs/api.md).
    _until(lambda: support.pool_usage(
        placement, accel['pool_provider_uuid']) == 0, next_publication,
        'the claim released')
    assert daemon.process.poll() is None


def test_attachments_go_on_while_placement_is_away(admin, placement, host,
                                                   daemons):
    host.placement_url = f'http://127.0.0.1:{free_port()}'
    _configure(host, report_interval=1, reconcile_interval=1)
    daemon = daemons(host)
    deadline = time.monotonic() + 90
    _until(lambda: 'Cycle failed, retrying' in daemon.stderr(), deadline,
           'publication failing')
    accel = support.accelerator(admin, host.name, GPU)

    admin.put(f'/accelerators/{accel["uuid"]}', json={'host': host.name})

    _until(lambda: _state(admin, accel) == 'attached', deadline,
           'attached while Placement is unreachable')
    assert host.read(GPU, 'driver_override') == 'vfio-pci'
    assert support.pool_usage(placement, accel['pool_provider_uuid']) == 1
    assert daemon.process.poll() is None


def test_publication_goes_on_while_the_api_is_away(placement,
                                                   placement_server,
                                                   tmp_path, unique_name,
                                                   daemons):
    node = create_compute_node(placement, unique_name)
    tree = sysfs_tree.build(tmp_path / 'sys',
                            [catalog.nvidia_t4(a) for a in support.GPUS])
    host = support.AgentHost(unique_name, tmp_path, tree,
                             f'http://127.0.0.1:{free_port()}',
                             placement_server.url)
    _configure(host, report_interval=1, reconcile_interval=1)
    daemon = daemons(host)
    deadline = time.monotonic() + 90
    _until(lambda: 'Reconcile pass failed, retrying' in daemon.stderr(),
           deadline, 'reconcile passes failing')

    _until(lambda: [
        p['inventories'].get('PGPU', {}).get('total')
        for p in children(placement, node).values()] == [2], deadline,
        'both GPUs published to Placement')
    assert daemon.process.poll() is None
