"""A fleet of N hosts running the real agent against one Placement and one API.

Starts Placement as clouds run it (MariaDB, several gunicorn workers; SQLite
and one worker with ``--placement-db sqlite``) and ``cyborg-api`` on
PostgreSQL, MariaDB or SQLite with ``[api] workers``, builds N hosts with
``tools/harness/fleet.py`` (a sysfs tree of real ids per host, a compute-node
provider each, the real agent code in threads of this process) and prints, as
markdown, each figure with its ratio to a ceiling measured in the same run:
Placement's own rate for a plain ``GET /resource_providers``.

1. first publish of N hosts started together; 2. a steady cycle and a
reconcile pass of every host; 3. the fleet restarted at once, for each
``--restart`` variant of ``[agent]`` options; 4. 50 clients attaching at
the same moment, two per accelerator; 5. Nova's scheduling query (Nova's
``ResourceRequest``) for ``resources:PGPU=1`` and ``=8`` over the pooled
layout and over the same GPUs as one provider per device, side by side.

Usage: python benchmarks/fleet.py --hosts 100 [--placement-db mysql]
       [--placement-workers 4] [--api-db postgresql] [--api-workers 4]
       [--restart NAME:key=value,...] [--first-publish-only] [--json FILE]
"""
import argparse
import collections
import concurrent.futures
import contextlib
import json
import os
import pathlib
import platform
import signal
import subprocess
import sys
import tempfile
import time

import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmarks import fleet_scheduling  # noqa: E402
from cyborg_placement.placement.client import PlacementClient  # noqa: E402
from tools.harness import databases  # noqa: E402
from tools.harness import fleet  # noqa: E402
from tools.harness import ini  # noqa: E402
from tools.harness import run_facts  # noqa: E402
from tools.harness.api_server import ApiServer  # noqa: E402
from tools.harness.counting_proxy import CountingProxy  # noqa: E402
from tools.harness.local_placement import LocalPlacement  # noqa: E402

FIGURES: dict = {}
#: Restarts without and with what the agent keeps across them ([agent]
#: save_published_state) and without and with the daemon's spreading of its
#: first cycle ([agent] periodic_fuzzy_delay).
DEFAULT_RESTARTS = [
    'nothing saved, at once:save_published_state=false,periodic_fuzzy_delay=0',
    'nothing saved, spread:save_published_state=false,periodic_fuzzy_delay=60',
    'saved state, at once:periodic_fuzzy_delay=0',
    'saved state, spread:periodic_fuzzy_delay=60']


def say(text: str = '') -> None:
    print(text, flush=True)


def ceiling(url: str, clients: int, seconds: float) -> float:
    """Placement's rate for its cheapest call, ``GET /resource_providers``."""
    deadline = time.monotonic() + seconds
    headers = {'X-Auth-Token': 'admin'}

    def worker(_):
        session, done = requests.Session(), 0
        while time.monotonic() < deadline:
            session.get(f'{url}/resource_providers',
                        headers=headers).raise_for_status()
            done += 1
        return done

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        total = sum(pool.map(worker, range(clients)))
    return total / (time.monotonic() - started)


def spread(values: dict) -> str:
    numbers = sorted(values.values())
    if not numbers:
        return '-'
    low, high = numbers[0], numbers[-1]
    mean = sum(numbers) / len(numbers)
    return f'{low}' if low == high else f'{low}-{high} (mean {mean:.1f})'


def ms(values: list[float]) -> str:
    return ' / '.join(f'{fleet.percentile(values, p) * 1000:.0f}'
                      for p in (0.5, 0.95, 0.99, 1.0))


def by_mix(hosts, counts: dict) -> str:
    mixes = {}
    for host in hosts:
        mixes.setdefault(host.mix, []).append(counts[host.name])
    return ', '.join(f'{mix}: {spread(dict(enumerate(v)))}'
                     for mix, v in sorted(mixes.items()))


def report_phase(name: str, phase: fleet.Phase, hosts, top: float,
                 minimum: dict | None = None) -> dict:
    placement = phase.per_host('placement')
    writes = phase.per_host('placement', writes_only=True)
    api = phase.per_host('api')
    total = sum(placement.values())
    peak = phase.peak_rate('placement')
    figures = {
        'hosts': len(phase.hosts), 'seconds': round(phase.seconds, 2),
        'placement_requests': total, 'placement_writes': sum(writes.values()),
        'placement_per_host': spread(placement),
        'placement_per_host_by_mix': by_mix(hosts, placement),
        'writes_per_host': spread(writes),
        'placement_rate': round(total / phase.seconds, 1),
        'placement_peak_1s': peak, 'peak_vs_ceiling': round(peak / top, 3),
        'placement_409': phase.statuses('placement').get(409, 0),
        'placement_statuses': dict(phase.statuses('placement')),
        'api_requests': sum(api.values()),
        'api_requests_per_host': spread(api),
        'api_to_placement_requests': len(phase.api_placement),
        'api_to_placement_kinds': dict(collections.Counter(
            f'{method} {_shape(path)}'
            for method, path in phase.api_placement)),
        'api_statuses': dict(phase.statuses('api')),
        'api_ms_p50_p95_p99_max': ms(phase.latencies('api')),
        'placement_ms_p50_p95_p99_max': ms(phase.latencies('placement')),
        'failures': phase.failures[:5], 'failed_hosts': len(phase.failures),
    }
    if minimum is not None:
        figures['custom_name_requests'] = dict(collections.Counter(
            f'{c.method} /{c.path.split("?")[0].split("/")[1]}'
            for c in phase.of('placement')
            if c.path.startswith(('/traits', '/resource_classes'))))
        figures['minimum_per_host_by_mix'] = by_mix(hosts, minimum)
        figures['requests_over_minimum'] = round(
            total / sum(minimum.values()), 2)
    FIGURES[name] = figures
    say(f'\n## {name}\n')
    say('| figure | value |\n|---|---|')
    for key, value in figures.items():
        say(f'| {key} | {value} |')
    return figures


def _shape(path: str) -> str:
    """A Placement path with its uuids and query left out."""
    parts = path.split('?')[0].split('/')
    return '/'.join('{id}' if len(part) == 36 else part for part in parts)


def minimum_first_publish(host) -> int:
    """What Placement cannot do with less for a new host: find the root
    (1), list its tree (1), and per pool create it, set its traits and set
    its inventory (3: Placement takes them in separate calls). The custom
    traits and classes are global: made once for the whole fleet, by the
    hosts that find them missing (``custom_name_requests``)."""
    return 2 + 3 * len(host.pools)


def attaches(api_url: str, client, hosts, clients: int) -> None:
    """``clients`` at once, two per accelerator, five per pool."""
    gpu_hosts = [h for h in hosts if h.mix == 'gpu8']
    targets = []
    for host in gpu_hosts:
        targets += fleet.accelerators_of(api_url, host.name)[:5]
        if len(targets) >= clients // 2:
            break
    targets = targets[:clients // 2] * 2
    results = fleet.attach_race(api_url, targets)
    statuses = {}
    for result in results:
        statuses[result.status] = statuses.get(result.status, 0) + 1
    held, pools = fleet.holders(api_url, client, targets)
    twice = sum(1 for used in pools.values() if used[1] > used[0])
    figures = {
        'clients': len(results), 'accelerators': len(held),
        'statuses': statuses,
        'errors (5xx)': sum(n for s, n in statuses.items() if s >= 500),
        'accelerators held once': sum(1 for n in held.values() if n == 1),
        'pools where Placement usage != units held': sum(
            1 for a, b in pools.values() if a != b),
        'units bound twice': twice,
        'ms p50/p95/p99/max': ms(sorted(r.seconds for r in results)),
    }
    FIGURES['attach race'] = figures
    say('\n## 50 clients attaching at once (two per accelerator)\n')
    say('| figure | value |\n|---|---|')
    for key, value in figures.items():
        say(f'| {key} | {value} |')


def steady_share(args, steady: dict, feed: dict, top: float) -> None:
    """Placement's load from a steady fleet, against its ceiling.

    Agents publish every ``report_interval`` (their reads, and what the
    API asks Placement for their device reports); reconcilers read the
    API's feed every ``reconcile_interval``, and each feed read makes the
    API read Placement too.
    """
    agents = steady['placement_requests'] / args.report_interval
    reports = steady['api_to_placement_requests'] / args.report_interval
    feeds = feed['api_to_placement_requests'] / args.reconcile_interval
    total = agents + reports + feeds
    figures = {
        'report_interval': args.report_interval,
        'reconcile_interval': args.reconcile_interval,
        'agents -> Placement per s': round(agents, 2),
        'API -> Placement per s (device reports)': round(reports, 2),
        'API -> Placement per s (reconcile feed)': round(feeds, 2),
        'total per s': round(total, 2),
        'agents share of ceiling': round(agents / top, 4),
        'total share of ceiling': round(total / top, 4),
        'API feed reads per s': round(args.hosts / args.reconcile_interval,
                                      2),
        'API feed rate measured (hosts / pass seconds)': round(
            args.hosts / feed['seconds'], 1),
        'API report rate measured (hosts / steady cycle seconds)': round(
            args.hosts / steady['seconds'], 1),
    }
    FIGURES['steady load'] = figures
    say('\n## Steady fleet: load on Placement and the API\n')
    say('| figure | value |\n|---|---|')
    for key, value in figures.items():
        say(f'| {key} | {value} |')


def machine() -> dict:
    def version(module):
        from importlib import metadata
        try:
            return metadata.version(module)
        except metadata.PackageNotFoundError:
            return '-'

    def server(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except OSError:
            return '-'
    meminfo = pathlib.Path('/proc/meminfo').read_text().split('\n')[0]
    return {'nproc': os.cpu_count(), 'memory': meminfo.split(':')[1].strip(),
            'python': platform.python_version(),
            'openstack-placement': version('openstack-placement'),
            'nova': version('nova'), 'gunicorn': version('gunicorn'),
            'SQLAlchemy': version('SQLAlchemy'),
            'mariadb': server(['mysql', '-h', '127.0.0.1', '-u', 'root', '-N',
                               '-e', 'select version()']),
            'postgresql': server(['psql', '-h', '127.0.0.1', '-U', 'postgres',
                                  '-tAc', 'show server_version']),
            'commit': run_facts.commit(),
            'load average at start': os.getloadavg()}


def database(kind: str, path: str):
    if kind == 'postgresql':
        return databases.fresh_postgresql()
    if kind == 'mysql':
        return databases.fresh_mysql()
    return contextlib.nullcontext(None if path is None
                                  else f'sqlite:///{path}')


def variants(specs: list[str]) -> list[tuple[str, dict]]:
    """``NAME:key=value,key=value`` -> (name, [agent] options)."""
    found = []
    for spec in specs or DEFAULT_RESTARTS:
        name, _, options = spec.partition(':')
        found.append((name, dict(item.split('=', 1)
                                 for item in options.split(',') if item)))
    return found


def run(args, tmp: str) -> None:
    with database(args.placement_db, None) as placement_db, \
            database(args.api_db, f'{tmp}/cyborg.sqlite') as api_db:
        placement_server = LocalPlacement(
            f'{tmp}/placement', database_url=placement_db,
            workers=args.placement_workers)
        placement_server.start()
        # The API's own calls to Placement go through a counting proxy.
        proxy = CountingProxy(placement_server.url).start()
        api = ApiServer(f'{tmp}/api', api_db, proxy.url,
                        workers=args.api_workers)
        api.start()
        try:
            measure(args, tmp, placement_server.url, api.url, proxy)
        finally:
            api.stop()
            proxy.stop()
            placement_server.stop()


def measure(args, tmp: str, placement_url: str, api_url: str,
            proxy: CountingProxy) -> None:
    client = PlacementClient.from_conf(ini.cyborg_conf(
        f'{tmp}/admin.conf', {'placement': ini.token_auth(placement_url)}))
    top = ceiling(placement_url, args.ceiling_clients, args.ceiling_seconds)
    FIGURES['ceiling GET /resource_providers per s'] = round(top, 1)
    say(f'# ceiling: {top:.1f} GET /resource_providers per s '
        f'({args.ceiling_clients} clients, {args.ceiling_seconds:.0f} s)')
    started = time.monotonic()
    hosts = fleet.Fleet(f'{tmp}/hosts', args.hosts, placement_url, api_url,
                        agent_options=dict(item.split('=', 1)
                                           for item in args.start),
                        api_placement=proxy)
    hosts.create_compute_nodes(client)
    hosts.start_agents()
    say(f'# {args.hosts} hosts built (sysfs, conf, compute node, agent) in '
        f'{time.monotonic() - started:.0f} s')
    minimum = {h.name: minimum_first_publish(h) for h in hosts.hosts}

    def phase(name: str, action, **kwargs) -> dict:
        ran = hosts.run(action, concurrency=args.concurrency)
        return report_phase(name, ran, hosts.hosts, top, **kwargs)
    phase('first publish, all hosts at once', fleet.cycle, minimum=minimum)
    if args.first_publish_only:
        return
    steady = phase('steady cycle (daemon, nothing changed)', fleet.cycle)
    feed = phase('reconcile pass, all hosts at once', fleet.reconcile)
    steady_share(args, steady, feed, top)
    for name, options in variants(args.restart):
        hosts.configure(options)
        hosts.start_agents()
        phase(f'{name}: fleet restarted at once {options}',
              fleet.started_cycle)
    if not args.skip_scheduling:
        FIGURES['scheduling'] = fleet_scheduling.compare(
            client, hosts.hosts, top)
    attaches(api_url, client, hosts.hosts, args.attach_clients)
    phase('reconcile pass after the attaches', fleet.reconcile)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--hosts', type=int, default=100)
    parser.add_argument('--placement-db', choices=('sqlite', 'mysql'),
                        default='mysql')
    parser.add_argument('--placement-workers', type=int, default=4)
    parser.add_argument('--api-db', choices=('sqlite', 'postgresql', 'mysql'),
                        default='postgresql')
    parser.add_argument('--api-workers', type=int, default=4)
    parser.add_argument('--concurrency', type=int, default=None,
                        help='Threads running agents (default: one per host).')
    parser.add_argument('--attach-clients', type=int, default=50)
    parser.add_argument('--report-interval', type=int, default=60)
    parser.add_argument('--reconcile-interval', type=int, default=5)
    parser.add_argument('--ceiling-clients', type=int, default=16)
    parser.add_argument('--ceiling-seconds', type=float, default=10)
    parser.add_argument('--start', action='append', default=[],
                        metavar='KEY=VALUE',
                        help='An [agent] option of the first start.')
    parser.add_argument('--restart', action='append', metavar='NAME:OPTIONS',
                        help='A restart of the whole fleet with these [agent] '
                             'options (key=value,...); repeat for more.')
    parser.add_argument('--skip-scheduling', action='store_true')
    parser.add_argument('--first-publish-only', action='store_true',
                        help='Stop after the first publication.')
    parser.add_argument('--json', help='Also write the figures here.')
    args = parser.parse_args()
    # A timeout's SIGTERM still stops the servers and drops the databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    FIGURES['machine'] = machine()
    FIGURES['command'] = ' '.join(sys.argv)
    say(f'# {FIGURES["machine"]}')
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='fleet-') as tmp:
        try:
            run(args, tmp)
        finally:
            FIGURES['total seconds'] = round(time.monotonic() - began)
            say(f'\n# total {FIGURES["total seconds"]} s')
            if args.json:
                pathlib.Path(args.json).write_text(
                    json.dumps(FIGURES, indent=1, default=str))
    return 0


if __name__ == '__main__':
    sys.exit(main())
