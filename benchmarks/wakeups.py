"""Wake-ups against polling: attach latency, feed reads and API CPU per host.

Starts a real Placement, a ``cyborg-api`` (SQLite, one worker) with
``[DEFAULT] transport_url`` on the real RabbitMQ, and the real
``cyborg-agent`` daemon of a host with two GPUs (a sysfs tree of their
real ids), then prints:

1. the time from ``PUT /accelerators/{uuid}`` to ``attached`` (and from
   ``DELETE`` to ``detached``) for ``--cycles`` cycles, with the agent
   polling every ``reconcile_interval`` (5 s, no transport_url: today's
   default) and with the agent woken (``woken_reconcile_interval`` 120 s);
2. the feed reads per second that ``--hosts`` idle hosts make with each
   interval (computed from the intervals: one ``GET
   /hosts/{host}/attachments`` per pass);
3. the API's CPU per idle host: the CPU seconds of the API's processes per
   idle feed read (measured over ``--reads`` reads of an idle host's feed),
   divided by each interval, and what ``--hosts`` idle hosts cost in cores.

Usage: python benchmarks/wakeups.py [--cycles 10] [--hosts 1000]
       [--reads 500] [--rabbit rabbit://guest:guest@127.0.0.1:5672/]
"""
import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from cyborg_placement.placement.client import PlacementClient  # noqa: E402
from tools.harness import agent_host as support  # noqa: E402
from tools.harness import ini  # noqa: E402
from tools.harness import waiting  # noqa: E402
from tools.harness.agent_host import Daemon  # noqa: E402
from tools.harness.api_server import ApiServer  # noqa: E402
from tools.harness.local_placement import LocalPlacement  # noqa: E402

POLLING = 5  # today's [agent] reconcile_interval
SAFETY_NET = 120  # [agent] woken_reconcile_interval


def _state(admin, uuid: str) -> str | None:
    return (admin.get(f'/accelerators/{uuid}').json()['attachment']
            or {}).get('state')


def _timed(admin, uuid: str, state: str) -> float:
    started = time.monotonic()
    waiting.wait_for(lambda: _state(admin, uuid) == state, 300, state,
                     interval=0.05)
    return time.monotonic() - started


def _cycles(api: ApiServer, host: support.AgentHost, n: int
            ) -> tuple[list[float], list[float]]:
    admin = api.client()
    uuid = support.accelerator(admin, host.name, support.GPUS[0])['uuid']
    attached, detached = [], []
    for _ in range(n):
        admin.put(f'/accelerators/{uuid}', json={'host': host.name})
        attached.append(_timed(admin, uuid, 'attached'))
        admin.delete(f'/accelerators/{uuid}')
        detached.append(_timed(admin, uuid, 'detached'))
    return attached, detached


def _host(placement, placement_server, api, tmp: pathlib.Path, name: str,
          transport_url: str | None) -> tuple[support.AgentHost, Daemon]:
    default = {'transport_url': transport_url} if transport_url else {}
    host = support.make_agent_host(
        placement, tmp, name, api.url, placement_server.url,
        sections={'DEFAULT': {'debug': 'true', **default}},
        agent_options={'periodic_fuzzy_delay': 0, 'report_interval': 600,
                       'reconcile_interval': POLLING,
                       'woken_reconcile_interval': SAFETY_NET})
    daemon = Daemon(host.conf_file, tmp / 'agent.log')
    ready = 'Listening for wake-ups' if transport_url else \
        'Reconciling attachments every'
    waiting.wait_for(lambda: ready in daemon.stderr(), 60, ready)
    return host, daemon


def _cpu_seconds(pgid: int) -> float:
    """utime + stime of every process in the group (the API's workers)."""
    total = 0
    for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf('SC_CLK_TCK')


def _cpu_per_idle_read(api: ApiServer, host: str, reads: int) -> float:
    service = api.client(token='agent', roles='service')
    revision = service.get(f'/hosts/{host}/attachments').json()['revision']
    before = _cpu_seconds(api.process.pid)
    for _ in range(reads):
        service.get(f'/hosts/{host}/attachments',
                    params={'changes_since': revision})
    return (_cpu_seconds(api.process.pid) - before) / reads


def _print_latency(name: str, seconds: list[float],
                   baseline: list[float] | None = None) -> None:
    median = statistics.median(seconds)
    ratio = f'{median / statistics.median(baseline):.3f}' if baseline else '1'
    print(f'{name:<40} {median:>8.2f} {max(seconds):>8.2f} {ratio:>7}')


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--cycles', type=int, default=10)
    parser.add_argument('--hosts', type=int, default=1000)
    parser.add_argument('--reads', type=int, default=500)
    parser.add_argument('--rabbit', default=os.environ.get(
        'CYBORG_TEST_RABBITMQ_URL', 'rabbit://guest:guest@127.0.0.1:5672/'))
    args = parser.parse_args()
    print(f'# load average at start: {os.getloadavg()[0]:.2f}')
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        placement_server = LocalPlacement(tmp / 'placement')
        placement_server.start()
        api = ApiServer.on_sqlite(
            tmp / 'api', placement_server.url, workers=1,
            sections={'DEFAULT': {'transport_url': args.rabbit}})
        api.start()
        daemons = []
        try:
            placement = PlacementClient.from_conf(ini.cyborg_conf(
                tmp / 'placement-client.conf',
                {'placement': ini.token_auth(placement_server.url)}))
            results = {}
            for mode, url in (('polling', None), ('woken', args.rabbit)):
                workdir = tmp / mode
                workdir.mkdir()
                host, daemon = _host(placement, placement_server, api,
                                     workdir, f'bench-{mode}-{os.getpid()}',
                                     url)
                daemons.append(daemon)
                results[mode] = _cycles(api, host, args.cycles)
            cpu = _cpu_per_idle_read(api, host.name, args.reads)
        finally:
            for daemon in daemons:
                daemon.stop()
            api.stop()
            placement_server.stop()

    print(f'{"seconds to":<40} {"median":>8} {"max":>8} {"ratio":>7}')
    for index, what in enumerate(('attached', 'detached')):
        baseline = results['polling'][index]
        _print_latency(f'{what}, polling every {POLLING}s', baseline)
        _print_latency(f'{what}, woken (safety net {SAFETY_NET}s)',
                       results['woken'][index], baseline)
    print(f'\n{"idle hosts":<40} {"reads/s":>8} {"API CPU":>8} {"ratio":>7}')
    for name, interval in ((f'polling every {POLLING}s', POLLING),
                           (f'woken, safety net {SAFETY_NET}s', SAFETY_NET)):
        reads = args.hosts / interval
        print(f'{args.hosts} hosts, {name:<29} {reads:>8.1f} '
              f'{reads * cpu:>7.2f}c {POLLING / interval:>7.3f}')
    print(f'\n# API CPU per idle feed read: {cpu * 1000:.2f} ms '
          f'(over {args.reads} reads); per idle host: '
          f'{cpu / POLLING * 1000:.3f} ms/s polling, '
          f'{cpu / SAFETY_NET * 1000:.4f} ms/s woken')
    return 0


if __name__ == '__main__':
    sys.exit(main())
