"""Attach and detach storms: clients attach and detach a few units of one
pool at random while the host's real agent daemon reconciles, with and
without API workers killed mid-request (SIGKILL of a gunicorn worker), on
SQLite and on PostgreSQL. Afterwards Placement counts exactly the units the
API holds on every pool, nothing is stuck half way, and no answer was a 500.

Sizes are counts (clients, requests, kills), not durations."""
import collections
import os
import random
import signal
import threading
import time

import pytest
import requests

from tests.functional.compute_nodes import create_compute_node
from tools.harness import agent_host as support
from tools.harness import catalog
from tools.harness import sysfs_tree
from tools.harness.agent_host import Daemon
from tools.harness.api_server import ApiServer

CLIENTS = 5
REQUESTS_PER_CLIENT = 60
#: With kills: one worker is killed after every KILL_EVERY answers.
KILL_EVERY = 15
ADDRESSES = tuple(f'0000:{bus:02x}:00.0' for bus in (0x3b, 0x3c, 0x5e, 0x86))
TRANSITIONAL = ('attaching', 'detaching')


@pytest.fixture(params=['sqlite', 'postgresql'])
def storm_database(request, tmp_path) -> str:
    if request.param == 'sqlite':
        return f'sqlite:///{tmp_path}/cyborg.sqlite'
    return request.getfixturevalue('postgresql_url')


@pytest.fixture
def storm_api(storm_database, placement_server, tmp_path):
    server = ApiServer(tmp_path / 'api', storm_database, placement_server.url,
                       workers=3, api_options={'attach_recovery_seconds': 1})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def agent_host(placement, placement_server, storm_api, tmp_path, unique_name):
    """Four GPUs of one product on one NUMA node: one pool of four units."""
    create_compute_node(placement, unique_name)
    tree = sysfs_tree.build(tmp_path / 'sys', [
        catalog.nvidia_h100_sxm(address) for address in ADDRESSES])
    tree.driver_dir('vfio-pci')
    host = support.AgentHost(unique_name, tmp_path, tree, storm_api.url,
                             placement_server.url)
    host.write_conf()
    with open(host.conf_file, 'a') as conf:
        conf.write('report_interval = 600\nreconcile_interval = 1\n')
    host.settle()  # publication and device report
    daemon = Daemon(host.conf_file, tmp_path / 'agent.log')
    yield host
    assert daemon.stop() == 0, daemon.stderr()


def _workers(server: ApiServer) -> list[int]:
    master = server.process.pid
    with open(f'/proc/{master}/task/{master}/children') as children:
        return [int(pid) for pid in children.read().split()]


class Storm:
    """Clients attaching and detaching at random; every answer counted."""

    def __init__(self, server: ApiServer, host: str, uuids: list[str],
                 kill_every: int | None) -> None:
        self.server = server
        self.host = host
        self.uuids = uuids
        self.kill_every = kill_every
        self.statuses = collections.Counter()
        self.five_hundreds: list[str] = []
        self.kills = 0
        self.lock = threading.Lock()

    def _answered(self, response: requests.Response | None) -> None:
        with self.lock:
            if response is None:
                self.statuses['cut off'] += 1
            else:
                self.statuses[response.status_code] += 1
                if response.status_code >= 500:
                    self.five_hundreds.append(response.text)
            answers = sum(self.statuses.values())
            kill = self.kill_every and answers % self.kill_every == 0
        if kill:
            self._kill_a_worker()

    def _kill_a_worker(self) -> None:
        workers = _workers(self.server)
        if workers:
            os.kill(random.choice(workers), signal.SIGKILL)
            with self.lock:
                self.kills += 1

    def _client(self, seed: int) -> None:
        rng = random.Random(seed)
        client = self.server.client()
        for _ in range(REQUESTS_PER_CLIENT):
            uuid = rng.choice(self.uuids)
            try:
                if rng.random() < 0.5:
                    response = client.put(f'/accelerators/{uuid}',
                                          json={'host': self.host})
                else:
                    response = client.delete(f'/accelerators/{uuid}')
            except requests.ConnectionError:
                response = None  # its worker was killed
            self._answered(response)

    def run(self) -> None:
        threads = [threading.Thread(target=self._client, args=(seed,))
                   for seed in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def _attachments(admin, host: str) -> dict[str, dict | None]:
    found = admin.get('/accelerators', params={'host': host}).json()
    return {a['uuid']: a['attachment'] for a in found['accelerator']}


def _settled(admin, placement, host: str, pool: str) -> tuple[bool, str]:
    """No attachment in a transitional state, and the pool's usage equal
    to the attachments the API holds."""
    attachments = _attachments(admin, host)
    states = [a and a['state'] for a in attachments.values()]
    held = sum(state == 'attached' for state in states)
    used = support.pool_usage(placement, pool)
    consumers = placement.get(f'/resource_providers/{pool}/allocations')[
        'allocations']
    ok = used == held and not set(states) & set(TRANSITIONAL)
    return ok, f'states {states}, Placement used {used}, consumers {consumers}'


def _wait_settled(admin, placement, host: str, pool: str) -> None:
    """The agent (every second) and the API's recovery (after one second)
    finish what the storm left; poll until they have."""
    deadline = time.monotonic() + 90
    while True:
        ok, seen = _settled(admin, placement, host, pool)
        if ok:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f'not settled: {seen}')
        time.sleep(0.5)


@pytest.mark.parametrize('kill_every', [None, KILL_EVERY],
                         ids=['no-faults', 'workers-killed'])
def test_storm_leaves_placement_equal_to_the_api(storm_api, agent_host,
                                                 placement, kill_every):
    admin = storm_api.client()
    uuids = list(_attachments(admin, agent_host.name))
    pools = {support.accelerator(admin, agent_host.name, a)[
        'pool_provider_uuid'] for a in ADDRESSES}
    assert len(uuids) == len(ADDRESSES) and len(pools) == 1
    pool = pools.pop()

    storm = Storm(storm_api, agent_host.name, uuids, kill_every)
    storm.run()
    assert storm.five_hundreds == [], storm.statuses
    assert storm.statuses[200] and storm.statuses[204], storm.statuses
    if kill_every:
        assert storm.kills and storm.statuses['cut off'], storm.statuses
    storm_api.wait_ready(30)
    _wait_settled(admin, placement, agent_host.name, pool)

    # Everything detached: the pool is free again.
    for uuid in uuids:
        assert admin.delete(f'/accelerators/{uuid}').status_code == 204
    _wait_settled(admin, placement, agent_host.name, pool)
    assert support.pool_usage(placement, pool) == 0
    assert 'Traceback' not in storm_api.log_file.read_text()
