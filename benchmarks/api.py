"""Throughput and latency of the accelerator API against a trivial WSGI app.

Starts a real Placement (one worker, on the same kind of database as
ours: ``--db``), a ``cyborg-api`` (gunicorn, ``--workers`` processes
of 4 threads) on SQLite or PostgreSQL, and, as the ceiling, a trivial WSGI app
served by gunicorn with the same workers and threads.

First, side by side with Placement on the same work: one client, requests
alternating between ``GET /accelerators`` (a page of 1,000) and Placement's
``GET /resource_providers`` with 1,000 providers (latest microversion);
prints the median latency and bytes of each and their ratios (``--compare``
requests each). Then prints requests, seconds, requests/s, p50/p99 latency
and ratios against the ceiling for:

1. ``GET /accelerators`` (a page of 1,000) with 10,000 rows in the table;
2. ``GET /accelerators?host=H`` (one host's 100 rows);
3. attach/detach cycles (attach to a host, reconciler reports attached,
   detach, reconciler reports detached: 4 requests, 2 Placement writes).

Usage: python benchmarks/api.py [--db sqlite|postgresql] [--workers 2]
       [--clients 8] [--seconds 10] [--rows 10000] [--compare 40]
"""
import argparse
import concurrent.futures
import contextlib
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from cyborg_placement.api import microversion  # noqa: E402
from cyborg_placement.placement.client import PlacementClient  # noqa: E402
from tools.harness import databases  # noqa: E402
from tools.harness import ini  # noqa: E402
from tools.harness import run_facts  # noqa: E402
from tools.harness.api_server import ApiServer  # noqa: E402
from tools.harness.api_server import make_host  # noqa: E402
from tools.harness.local_placement import LocalPlacement  # noqa: E402
from tools.harness.server_process import free_port  # noqa: E402

UNITS_PER_HOST = 100
#: Rows of each side of the comparison with Placement.
COMPARED_ROWS = 1000


def _run(clients: int, seconds: float, one_request) -> dict:
    """Run ``one_request`` from ``clients`` threads for ``seconds``."""
    deadline = time.monotonic() + seconds

    def worker(n):
        latencies = []
        while time.monotonic() < deadline:
            start = time.monotonic()
            one_request(n)
            latencies.append(time.monotonic() - start)
        return latencies

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        latencies = sorted(sum(pool.map(worker, range(clients)), []))
    elapsed = time.monotonic() - started
    return {'requests': len(latencies), 'seconds': elapsed,
            'rps': len(latencies) / elapsed,
            'p50': statistics.median(latencies) * 1000,
            'p99': latencies[int(len(latencies) * 0.99) - 1] * 1000}


def _print(name: str, result: dict, ceiling: dict | None = None) -> None:
    ratio = f'{result["rps"] / ceiling["rps"]:6.3f}' if ceiling else '   -  '
    print(f'{name:<44} {result["requests"]:>8} {result["seconds"]:>7.1f} '
          f'{result["rps"]:>9.1f} {result["p50"]:>8.1f} {result["p99"]:>8.1f} '
          f'{ratio}')


def _trivial_server(workdir, workers: int):
    port = free_port()
    process = subprocess.Popen(
        [str(pathlib.Path(sys.executable).parent / 'gunicorn'), '-w',
         str(workers), '-k', 'gthread', '--threads', '4',
         '--no-control-socket', '-b', f'127.0.0.1:{port}', '--chdir',
         str(pathlib.Path(__file__).parent), 'trivial_wsgi:application'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f'http://127.0.0.1:{port}'
    for _ in range(100):
        try:
            requests.get(url, timeout=1)
            return process, url
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError('trivial WSGI server did not start')


def _fill(server, placement, rows: int) -> list[dict]:
    service = server.client(token='s', roles='service')
    hosts = []
    for n in range(rows // UNITS_PER_HOST):
        name = f'bench-host-{n:04d}'
        host = make_host(placement, name, units=UNITS_PER_HOST)
        found = service.put(f'/hosts/{name}/accelerators',
                            json=host['report'])
        found.raise_for_status()
        host['name'] = name
        host['uuids'] = [a['uuid'] for a in found.json()['accelerators']]
        hosts.append(host)
    return hosts


def _fill_providers(placement, rows: int) -> None:
    """Root providers until Placement holds ``rows`` of them in all."""
    listed = placement.get('/resource_providers')['resource_providers']
    for n in range(rows - len(listed)):
        placement.post('/resource_providers', {'name': f'bench-rp-{n:04d}'})


def _median_of(get, url: str, headers: dict, times: list, sizes: list):
    def one():
        started = time.perf_counter()
        response = get(url, headers=headers)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        sizes.append(len(response.content))
    return one


def compare_with_placement(api_url: str, placement_url: str,
                           requests_each: int) -> None:
    """One client, alternating: our page of 1,000 accelerators and
    Placement's 1,000 providers, so both see the same machine load."""
    session = requests.Session()
    ours, theirs = ([], []), ([], [])
    steps = [
        _median_of(session.get, f'{api_url}/accelerators', {
            'X-Auth-Token': 'admin', 'OpenStack-API-Version':
            f'accelerator {microversion.MAX_VERSION}'}, *ours),
        _median_of(session.get, f'{placement_url}/resource_providers', {
            'X-Auth-Token': 'admin',
            'OpenStack-API-Version': 'placement latest'}, *theirs)]
    for step in steps:  # warm both servers' caches and connections
        step()
    for side in (*ours, *theirs):
        side.clear()
    for _ in range(requests_each):
        for step in steps:
            step()
    ms = {name: statistics.median(side[0]) * 1000
          for name, side in (('ours', ours), ('placement', theirs))}
    kb = {name: statistics.median(side[1]) / 1000
          for name, side in (('ours', ours), ('placement', theirs))}
    print(f'{"side by side, one client, median of " + str(requests_each):<44}'
          f' {"ms":>8} {"KB":>8} {"ms/KB":>8}')
    for name, label in (('placement', 'GET /resource_providers (1,000)'),
                        ('ours', 'GET /accelerators (1,000)')):
        print(f'{label:<44} {ms[name]:>8.1f} {kb[name]:>8.0f} '
              f'{ms[name] / kb[name]:>8.4f}')
    print(f'{"ratio ours / Placement":<44} '
          f'{ms["ours"] / ms["placement"]:>8.3f} '
          f'{kb["ours"] / kb["placement"]:>8.3f} '
          f'{(ms["ours"] / kb["ours"]) / (ms["placement"] / kb["placement"]):>8.3f}')


def _cycle(server, hosts):
    """Each client thread attaches and detaches accelerators of its host."""
    admin = {}
    service = {}

    def one(n):
        if n not in admin:
            admin[n] = server.client()
            service[n] = server.client(token='s', roles='service')
        host = hosts[n]
        uuid = host['uuids'][0]
        made = admin[n].put(f'/accelerators/{uuid}', json={
            'host': host['name']}).json()['attachment']
        service[n].put(f'/attachments/{made["uuid"]}/state',
                       json={'state': 'attached'})
        admin[n].delete(f'/accelerators/{uuid}')
        service[n].put(f'/attachments/{made["uuid"]}/state',
                       json={'state': 'detached'})
    return one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--db', choices=('sqlite', 'postgresql'),
                        default='sqlite')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--clients', type=int, default=8)
    parser.add_argument('--seconds', type=float, default=10)
    parser.add_argument('--rows', type=int, default=10000)
    parser.add_argument('--compare', type=int, default=40,
                        help='Requests of each side in the comparison with '
                             'Placement (0: skip it).')
    args = parser.parse_args()
    print(run_facts.header())
    with tempfile.TemporaryDirectory() as tmp, \
            _database(args.db, tmp) as db_url, \
            _database(args.db, tmp, 'placement') as placement_db_url:
        # Placement on the same kind of database as ours: the comparison
        # is of the two services, not of SQLite and PostgreSQL.
        placement_server = LocalPlacement(os.path.join(tmp, 'placement'),
                                          database_url=placement_db_url)
        placement_server.start()
        server = ApiServer(os.path.join(tmp, 'api'), db_url,
                           placement_server.url, workers=args.workers)
        server.start()
        trivial, trivial_url = _trivial_server(tmp, args.workers)
        try:
            placement = PlacementClient.from_conf(_placement_conf(
                placement_server.url, tmp))
            started = time.monotonic()
            hosts = _fill(server, placement, args.rows)
            print(f'# {args.rows} rows through {len(hosts)} device reports '
                  f'in {time.monotonic() - started:.1f} s; db={args.db}, '
                  f'workers={args.workers}, clients={args.clients}')
            if args.compare:
                _fill_providers(placement, COMPARED_ROWS)
                compare_with_placement(server.url, placement_server.url,
                                       args.compare)
            print(f'{"case":<44} {"requests":>8} {"seconds":>7} '
                  f'{"req/s":>9} {"p50 ms":>8} {"p99 ms":>8} {"ratio":>6}')
            session = requests.Session()
            ceiling = _run(args.clients, args.seconds,
                           lambda n: session.get(trivial_url))
            _print('trivial WSGI app (ceiling)', ceiling)
            clients = [server.client() for _ in range(args.clients)]
            _print(f'GET /accelerators (1,000 of {args.rows:,} rows)',
                   _run(args.clients, args.seconds,
                        lambda n: clients[n].get('/accelerators')), ceiling)
            _print(f'GET /accelerators?host= ({UNITS_PER_HOST} rows)',
                   _run(args.clients, args.seconds,
                        lambda n: clients[n].get('/accelerators', params={
                            'host': hosts[n % len(hosts)]['name']})),
                   ceiling)
            cycles = _run(min(args.clients, len(hosts)), args.seconds,
                          _cycle(server, hosts))
            _print('attach/detach cycle (4 requests each)', cycles, ceiling)
            print(f'# attach/detach: {cycles["rps"] * 4:.1f} API requests/s '
                  'within cycles')
        finally:
            os.killpg(trivial.pid, 15)
            server.stop()
            placement_server.stop()
    return 0


def _database(kind: str, tmp: str, name: str = 'cyborg'):
    if kind == 'postgresql':
        return databases.fresh_postgresql()
    return contextlib.nullcontext(f'sqlite:///{tmp}/{name}.sqlite')


def _placement_conf(url: str, tmp: str):
    return ini.cyborg_conf(pathlib.Path(tmp) / 'client.conf',
                           {'placement': ini.token_auth(url)})


if __name__ == '__main__':
    sys.exit(main())
