"""A fleet of hosts, each running the real agent code, against one Placement.

Each simulated host has a sysfs tree built from real PCI ids (one of
:data:`MIXES`), its own ``cyborg.conf`` and ``[agent] state_dir``, and a
compute-node root provider made as nova-compute makes it. Its agent is the
real :class:`cyborg_agent.daemon.Agent`: discovery, Placement sync, device
report and reconcile pass, run in threads of this process (the servers are
the bottleneck, not the clients). Every HTTP answer either service gives an
agent is recorded (:class:`Recorder`, a ``requests`` response hook on the
agent's own sessions), so counts per host, 409s, rates and latencies come
from what was really sent. ``benchmarks/fleet.py`` prints figures from it;
``tests/functional/test_fleet.py`` asserts its counts.
"""
import collections
import concurrent.futures
import dataclasses
import os
import pathlib
import threading
import time
import urllib.parse

from oslo_config import cfg
import requests

from cyborg_agent import daemon
from cyborg_agent import retry
from cyborg_agent.privileged import pci
from cyborg_agent.publish import tree
from cyborg_placement.placement.client import PlacementClient
from cyborg_placement.placement.client import WRITE_METHODS
from tools.harness import catalog
from tools.harness import ini
from tools.harness import nova_compute
from tools.harness import sysfs_tree
from tools.harness.counting_proxy import CountingProxy


def _fpga_ai_server() -> list[sysfs_tree.PciFunction]:
    return [catalog.host_bridge(), catalog.aspeed_bmc_vga(),
            catalog.intel_pac_arria10('0000:3b:00.0', 0),
            catalog.intel_pac_arria10('0000:5e:00.0', 0),
            catalog.habana_gaudi2('0000:86:00.0', 1),
            catalog.habana_gaudi2('0000:af:00.0', 1),
            catalog.samsung_nvme('0000:c1:00.0', 1)]


#: Hosts of a fleet, by name: what each one's sysfs tree holds.
MIXES = {
    'gpu8': lambda: catalog.gpu_server(8, 0),
    'gpu4-qat2x16': lambda: catalog.gpu_server(4, 2, 16),
    'fpga2-ai2': _fpga_ai_server,
}
#: The order hosts are given their mix in: 45% / 45% / 10%.
PATTERN = ('gpu8',) * 9 + ('gpu4-qat2x16',) * 9 + ('fpga2-ai2',) * 2

@dataclasses.dataclass(frozen=True)
class Call:
    """One HTTP answer an agent got."""

    at: float  # time.monotonic() when the answer came
    host: str
    service: str  # 'placement' or 'api'
    method: str
    path: str
    status: int
    seconds: float

    @property
    def write(self) -> bool:
        return self.method in WRITE_METHODS


class Recorder:
    """Every answer of every agent, taken phase by phase."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def hook(self, host: str, service: str):
        def on_response(response, *args, **kwargs):
            call = Call(time.monotonic(), host, service,
                        response.request.method,
                        urllib.parse.urlsplit(response.request.url).path,
                        response.status_code,
                        response.elapsed.total_seconds())
            with self._lock:
                self._calls.append(call)
        return on_response

    def take(self) -> list[Call]:
        """The calls since the last ``take``."""
        with self._lock:
            calls, self._calls = self._calls, []
        return calls


@dataclasses.dataclass
class Host:
    name: str
    mix: str
    workdir: pathlib.Path
    conf: cfg.ConfigOpts | None
    root_uuid: str | None = None
    agent: daemon.Agent | None = None

    @property
    def pools(self) -> dict[str, tree.PoolProvider]:
        """The pools this host's agent publishes (from the real discovery)."""
        from cyborg_agent import discovery
        return tree.build(self.name, self.root_uuid or '',
                          discovery.discover_units(self.conf),
                          self.conf.agent.pool_by_numa)


class Fleet:
    """``count`` hosts named ``<prefix>-NNNN`` under ``workdir``."""

    def __init__(self, workdir: str | os.PathLike, count: int,
                 placement_url: str, api_url: str | None,
                 prefix: str = 'fleet',
                 agent_options: dict | None = None,
                 api_placement: CountingProxy | None = None) -> None:
        self.workdir = pathlib.Path(workdir)
        #: The proxy the API reaches Placement through, if it is counted.
        self.api_placement = api_placement
        self.placement_url = placement_url
        self.api_url = api_url
        self.recorder = Recorder()
        self.agent_options = agent_options or {}
        self.hosts = [self._make_host(f'{prefix}-{index:04d}',
                                      PATTERN[index % len(PATTERN)])
                      for index in range(count)]

    def _make_host(self, name: str, mix: str) -> Host:
        workdir = self.workdir / name
        sysfs = sysfs_tree.build(workdir / 'sys', MIXES[mix]())
        sysfs.driver_dir('vfio-pci')
        host = Host(name, mix, workdir, None)
        self._write_conf(host, self.agent_options)
        return host

    def _write_conf(self, host: Host, agent_options: dict) -> None:
        sections = {
            'agent': {'sysfs_root': host.workdir / 'sys',
                      'resource_provider_name': host.name,
                      'state_dir': host.workdir / 'state', **agent_options},
            'placement': ini.token_auth(self.placement_url),
        }
        if self.api_url:
            sections['accelerator_api'] = ini.token_auth(self.api_url)
        host.conf = ini.cyborg_conf(host.workdir / 'cyborg.conf', sections)

    def configure(self, agent_options: dict) -> None:
        """Rewrite every host's ``[agent]`` options (for the next start)."""
        self.agent_options = agent_options
        for host in self.hosts:
            self._write_conf(host, agent_options)

    def create_compute_nodes(self, client: PlacementClient) -> None:
        """The root providers nova-compute would have made."""
        for host in self.hosts:
            host.root_uuid = nova_compute.create_compute_node(client,
                                                              host.name)

    def start_agents(self) -> None:
        """A fresh agent process on every host (a fleet (re)started)."""
        for host in self.hosts:
            host.agent = daemon.Agent(host.conf)
            self._write_own_tree(host)
            self._observe(host)

    @staticmethod
    def _write_own_tree(host: Host) -> None:
        """The fleet's hosts share this process, so no privileged daemon
        (which serves the one tree of its own configuration) can serve them
        all: each host's binder writes its own tree, through the same
        checks, in this (root) process."""
        if host.agent.reconciler is None:  # publication only: no attaches
            return
        binder = host.agent.reconciler.host_binder
        binder.entry_points = pci.Tree(host.workdir / 'sys',
                                       binder.allowed_drivers)

    def _observe(self, host: Host) -> None:
        """Record every answer the agent's own sessions get."""
        client = host.agent.sync.client
        make_adapter = client._make_adapter

        def observed_adapter():
            adapter = make_adapter()
            adapter.session.session.hooks['response'].append(
                self.recorder.hook(host.name, 'placement'))
            return adapter
        client._make_adapter = observed_adapter
        if host.agent.api is not None:
            for adapter in (host.agent.api, host.agent.reconciler.api.adapter):
                adapter.session.session.hooks['response'].append(
                    self.recorder.hook(host.name, 'api'))

    def run(self, action, hosts: list[Host] | None = None,
            concurrency: int | None = None) -> 'Phase':
        """``action(host)`` on every host at once; what it cost."""
        hosts = self.hosts if hosts is None else hosts
        self.recorder.take()
        if self.api_placement is not None:
            self.api_placement.clear()
        failures = []
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(
                concurrency or len(hosts)) as pool:
            futures = {pool.submit(action, host): host for host in hosts}
            for future in concurrent.futures.as_completed(futures):
                if future.exception() is not None:
                    failures.append((futures[future].name,
                                     repr(future.exception())))
        return Phase(self.recorder.take(), time.monotonic() - started,
                     failures, [h.name for h in hosts],
                     list(self.api_placement.seen)
                     if self.api_placement is not None else [])


def cycle(host: Host) -> None:
    """One publication cycle: discovery, Placement sync, device report."""
    host.agent.cycle()


def started_cycle(host: Host) -> None:
    """A started daemon's first cycle, after the random wait its
    ``[agent] periodic_fuzzy_delay`` gives, as the daemon waits."""
    options = host.conf.agent
    time.sleep(retry.start_delay(options.periodic_fuzzy_delay,
                                 options.report_interval))
    host.agent.cycle()


def reconcile(host: Host) -> None:
    host.agent.reconcile()


@dataclasses.dataclass
class Phase:
    """What one phase of the fleet sent and how long it took."""

    calls: list[Call]
    seconds: float
    failures: list[tuple[str, str]]
    hosts: list[str]
    #: (method, path) of the API's own calls to Placement meanwhile.
    api_placement: list[tuple[str, str]]

    def of(self, service: str) -> list[Call]:
        return [c for c in self.calls if c.service == service]

    def per_host(self, service: str, writes_only: bool = False
                 ) -> dict[str, int]:
        """Requests of every host of the phase (0 for a silent one)."""
        counts = collections.Counter(
            c.host for c in self.of(service) if c.write or not writes_only)
        return {name: counts[name] for name in self.hosts}

    def statuses(self, service: str) -> collections.Counter:
        return collections.Counter(c.status for c in self.of(service))

    def peak_rate(self, service: str, window: float = 1.0) -> int:
        """Most answers of ``service`` within any ``window`` seconds."""
        times = sorted(c.at for c in self.of(service))
        best, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] > window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def latencies(self, service: str, method: str | None = None,
                  path_contains: str = '') -> list[float]:
        return sorted(c.seconds for c in self.of(service)
                      if (method is None or c.method == method)
                      and path_contains in c.path)


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the sorted ``values`` fall."""
    if not values:
        return float('nan')
    return values[min(len(values) - 1, int(len(values) * share))]


API_HEADERS = {'X-Auth-Token': 'admin',
               'OpenStack-API-Version': 'accelerator 1.0'}


@dataclasses.dataclass(frozen=True)
class Attach:
    """One client's attach request and the API's answer."""

    accelerator: str
    status: int
    seconds: float


def accelerators_of(api_url: str, host: str) -> list[dict]:
    """The host's accelerators as the API keeps them (its device report)."""
    answer = requests.get(f'{api_url}/accelerators', params={'host': host},
                          headers=API_HEADERS, timeout=60)
    answer.raise_for_status()
    return answer.json()['accelerator']


def attach_race(api_url: str, targets: list[dict]) -> list[Attach]:
    """One client per target, all attaching at the same moment.

    Each target is an accelerator of the API; a target listed twice is two
    clients racing for the same unit, as two users would.
    """
    barrier = threading.Barrier(len(targets))

    def attach(target: dict) -> Attach:
        session = requests.Session()
        session.headers.update(API_HEADERS)
        barrier.wait()
        started = time.monotonic()
        answer = session.put(f'{api_url}/accelerators/{target["uuid"]}',
                             json={'host': target['host']}, timeout=120)
        return Attach(target['uuid'], answer.status_code,
                      time.monotonic() - started)

    with concurrent.futures.ThreadPoolExecutor(len(targets)) as pool:
        return list(pool.map(attach, targets))


def holders(api_url: str, placement: PlacementClient, targets: list[dict]
            ) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
    """How many holders each target has, and per pool (API, Placement).

    The API shows one active attachment per accelerator (its uniqueness
    rule); Placement's usage of each pool must equal the units of that pool
    the API says are held: more usage than holders is a unit claimed twice.
    """
    held, by_pool = {}, collections.Counter()
    for target in {t['uuid']: t for t in targets}.values():
        answer = requests.get(f'{api_url}/accelerators/{target["uuid"]}',
                              headers=API_HEADERS, timeout=60)
        answer.raise_for_status()
        attachment = answer.json().get('attachment')
        held[target['uuid']] = int(bool(attachment))
        by_pool[target['pool_provider_uuid']] += held[target['uuid']]
    pools = {}
    for pool, count in by_pool.items():
        usages = placement.get(f'/resource_providers/{pool}/usages')['usages']
        pools[pool] = (count, sum(usages.values()))
    return held, pools
