"""Agents woken over the real RabbitMQ: a host attach is performed at once,
not on the next poll; without a broker (none configured, none reachable,
one gone mid-run) attaches still complete, by polling, and the API answers.

The real ``cyborg-api`` and ``cyborg-agent`` daemon, on the shared broker
of the test command (tools/start-rabbitmq.sh). A broker that goes away is
the shared one behind a :class:`TcpProxy` the test stops, since other runs
use the broker itself.
"""
import time

import pytest

from tools.harness import agent_host as support
from tools.harness import waiting
from tools.harness.agent_host import Daemon
from tools.harness.api_server import ApiServer
from tools.harness.server_process import free_port
from tools.harness.tcp_proxy import TcpProxy

GPU, OTHER_GPU = support.GPUS
#: Long enough that only a wake-up explains an attach done within WOKEN.
SAFETY_NET = 300
WOKEN = 30
BROKER_DOWN = 'the message bus is unreachable'


def _state(admin, accel) -> str | None:
    shown = admin.get(f'/accelerators/{accel["uuid"]}').json()
    return (shown['attachment'] or {}).get('state')


def _until_state(admin, accel, state: str, seconds: float) -> None:
    waiting.wait_for(lambda: _state(admin, accel) == state, seconds,
                     f'{accel["pci_address"]} {state}')


@pytest.fixture
def broker(rabbitmq_url):
    """The shared broker behind a proxy this test may stop."""
    proxy = TcpProxy(('127.0.0.1', 5672)).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def start_api(placement_server, tmp_path):
    """``start_api(transport_url)``: one worker, so "logged once" is one
    line in one process."""
    servers = []

    def start(transport_url: str | None) -> ApiServer:
        sections = {'DEFAULT': {'transport_url': transport_url}} \
            if transport_url else {}
        server = ApiServer.on_sqlite(tmp_path / f'api-{len(servers)}',
                                     placement_server.url, workers=1,
                                     sections=sections)
        server.start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def start_agent(placement, placement_server, tmp_path, unique_name):
    """``start_agent(api, transport_url, **agent_options)``: a host (two
    GPUs, published and reported) and its daemon."""
    daemons = []

    def start(api: ApiServer, transport_url: str | None, **options
              ) -> tuple[support.AgentHost, Daemon]:
        default = {'debug': 'true'}
        if transport_url:
            default['transport_url'] = transport_url
        host = support.make_agent_host(
            placement, tmp_path, unique_name, api.url, placement_server.url,
            sections={'DEFAULT': default},
            agent_options={'periodic_fuzzy_delay': 0, 'report_interval': 600,
                           **options})
        daemon = Daemon(host.conf_file, tmp_path / 'agent.log')
        daemons.append(daemon)
        waiting.wait_for(lambda: 'Reconciling attachments every'
                         in daemon.stderr(), 60, 'the reconciler started')
        return host, daemon
    yield start
    for daemon in daemons:
        assert daemon.stop() == 0, daemon.stderr()
        assert 'Traceback' not in daemon.stderr()


def _listening(daemon: Daemon) -> None:
    waiting.wait_for(lambda: 'Listening for wake-ups' in daemon.stderr(), 60,
                     'the agent listening for wake-ups')


def test_a_woken_agent_attaches_and_detaches_long_before_its_next_poll(
        rabbitmq_url, start_api, start_agent):
    api = start_api(rabbitmq_url)
    host, daemon = start_agent(api, rabbitmq_url,
                               woken_reconcile_interval=SAFETY_NET)
    _listening(daemon)
    admin = api.client()
    accel = support.accelerator(admin, host.name, GPU)
    started = time.monotonic()

    assert admin.put(f'/accelerators/{accel["uuid"]}',
                     json={'host': host.name}).status_code == 200
    _until_state(admin, accel, 'attached', WOKEN)
    assert host.read(GPU, 'driver_override') == 'vfio-pci'
    assert admin.delete(f'/accelerators/{accel["uuid"]}').status_code == 204
    _until_state(admin, accel, 'detached', WOKEN)

    assert time.monotonic() - started < SAFETY_NET
    assert 'Reconciling attachments every 300s and when woken up' \
        in daemon.stderr()
    assert daemon.stderr().count('Woken up: running at once') >= 2


def test_without_a_transport_url_attaches_complete_by_polling(
        start_api, start_agent):
    api = start_api(None)
    host, daemon = start_agent(api, None, reconcile_interval=2,
                               woken_reconcile_interval=SAFETY_NET)
    admin = api.client()
    accel = support.accelerator(admin, host.name, GPU)

    assert admin.put(f'/accelerators/{accel["uuid"]}',
                     json={'host': host.name}).status_code == 200

    _until_state(admin, accel, 'attached', WOKEN)
    assert 'Reconciling attachments every 2s, first' in daemon.stderr()
    assert 'wake-up' not in daemon.stderr().lower()


def test_an_unreachable_broker_costs_a_poll_and_one_log_line(
        start_api, start_agent):
    closed = f'rabbit://guest:guest@127.0.0.1:{free_port()}/'
    api = start_api(closed)
    host, daemon = start_agent(api, closed, woken_reconcile_interval=3)
    admin = api.client()
    first, second = (support.accelerator(admin, host.name, address)
                     for address in (GPU, OTHER_GPU))

    for accel in (first, second):
        assert admin.put(f'/accelerators/{accel["uuid"]}',
                         json={'host': host.name}).status_code == 200
    assert admin.delete(f'/accelerators/{first["uuid"]}').status_code == 204

    _until_state(admin, first, 'detached', WOKEN)
    _until_state(admin, second, 'attached', WOKEN)
    assert api.log_file.read_text().count(BROKER_DOWN) == 1
    # The agent's RPC server keeps trying to connect; said once.
    assert daemon.stderr().count('Connection failed') == 1
    assert daemon.process.poll() is None


def test_a_broker_gone_mid_run_loses_nothing_and_wake_ups_resume(
        broker, start_api, start_agent):
    api = start_api(broker.url())
    host, daemon = start_agent(api, broker.url(),
                               woken_reconcile_interval=10)
    _listening(daemon)
    admin = api.client()
    first, second = (support.accelerator(admin, host.name, address)
                     for address in (GPU, OTHER_GPU))
    assert admin.put(f'/accelerators/{first["uuid"]}',
                     json={'host': host.name}).status_code == 200
    _until_state(admin, first, 'attached', WOKEN)

    broker.stop()
    # Both wake-ups are lost: the agent's next polls do the work.
    assert admin.delete(f'/accelerators/{first["uuid"]}').status_code == 204
    assert admin.put(f'/accelerators/{second["uuid"]}',
                     json={'host': host.name}).status_code == 200
    _until_state(admin, first, 'detached', 60)
    _until_state(admin, second, 'attached', 60)
    assert host.read(GPU, 'driver_override') == '\n'
    assert host.read(OTHER_GPU, 'driver_override') == 'vfio-pci'
    assert api.log_file.read_text().count(BROKER_DOWN) == 1

    broker.start()
    waiting.wait_for(lambda: 'Reconnected' in daemon.stderr(), 90,
                     'the agent back on the broker')
    woken = daemon.stderr().count('Woken up: running at once')
    assert admin.delete(f'/accelerators/{second["uuid"]}').status_code == 204
    _until_state(admin, second, 'detached', 60)
    waiting.wait_for(
        lambda: daemon.stderr().count('Woken up: running at once') > woken,
        60, 'a wake-up after the broker came back')
    # The agent's driver said the outage once, and its end.
    assert daemon.stderr().count('is unreachable') == 1
    assert 'Reconnected to AMQP server' in daemon.stderr()
