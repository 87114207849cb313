"""Cost of publishing hosts into a real Placement, and of scheduling on them.

Runs a local Placement server (SQLite, one worker) and prints:

1. requests and wall time to publish 1, 10 and 100 simulated hosts (8 H100
   GPUs + 2 QAT PFs with 16 VFs each, found by the real discovery on a sysfs
   tree), first cycle and steady-state cycle, against a baseline run in the
   same script: a fresh process per cycle (``cyborg-agent --once`` from cron),
   which must read everything before it knows nothing changed;
2. first-cycle requests of one host as devices and pools grow (requests follow
   pools, not devices);
3. ``GET /allocation_candidates`` time for N GPUs on one host: our pooled
   layout (one provider, ``resources:PGPU=N``) against the baseline of the same
   devices as N one-unit providers requested as N isolated groups.

Usage: python benchmarks/publish.py [--hosts 1,10,100] [--devices 1,2,4,6,8]
"""
import argparse
import pathlib
import sys
import tempfile
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from oslo_config import cfg  # noqa: E402

from cyborg_agent import discovery  # noqa: E402
from cyborg_agent.publish.sync import ProviderSync  # noqa: E402
from cyborg_placement import conf as cyborg_conf  # noqa: E402
from cyborg_placement.placement.client import PlacementClient  # noqa: E402
from cyborg_placement.placement.client import PlacementUnreachable  # noqa: E402
from tools.harness import catalog  # noqa: E402
from tools.harness import run_facts  # noqa: E402
from tools.harness import sysfs_tree  # noqa: E402
from tools.harness.local_placement import LocalPlacement  # noqa: E402

FLAVOR = 'VCPU:4,MEMORY_MB:8192,DISK_GB:20'


def client_for(url: str, workdir: str) -> PlacementClient:
    path = f'{workdir}/cyborg-{uuid.uuid4().hex[:6]}.conf'
    with open(path, 'w') as conf_file:
        conf_file.write(f'[placement]\nauth_type = admin_token\n'
                        f'endpoint = {url}\ntoken = admin\n')
    opts = cfg.ConfigOpts()
    cyborg_conf.register_opts(opts)
    opts(['--config-file', path], project='cyborg', default_config_files=[])
    return PlacementClient.from_conf(opts)


def discovered_units(workdir: str, functions) -> list:
    root = f'{workdir}/sys-{uuid.uuid4().hex[:6]}'
    sysfs_tree.build(root, functions)
    opts = cfg.ConfigOpts()
    cyborg_conf.register_opts(opts)
    opts([], project='cyborg', default_config_files=[])
    opts.set_override('sysfs_root', root, group='agent')
    return discovery.discover_units(opts)


def compute_node(client: PlacementClient, name: str) -> str:
    """The root provider nova-compute would have made."""
    node = client.post('/resource_providers',
                       {'name': name, 'uuid': str(uuid.uuid4())})
    client.put(f'/resource_providers/{node["uuid"]}/inventories', {
        'resource_provider_generation': node['generation'],
        'inventories': {'VCPU': {'total': 64}, 'MEMORY_MB': {'total': 524288},
                        'DISK_GB': {'total': 2000}}})
    return node['uuid']


def timed(client: PlacementClient, action, *args) -> tuple[int, int, float]:
    """(requests, writes, seconds) of ``action(*args)``."""
    client.counts.clear()
    start = time.perf_counter()
    action(*args)
    return (sum(client.counts.values()), client.writes,
            time.perf_counter() - start)


def publish_hosts(client, units, count: int, tag: str) -> dict[str, tuple]:
    names = [f'{tag}-{index:03d}' for index in range(count)]
    for name in names:
        compute_node(client, name)
    agents = [ProviderSync(client, name) for name in names]

    def cycle(syncs):
        return lambda: [agent.sync(units) for agent in syncs]

    return {
        'first cycle': timed(client, cycle(agents)),
        'steady (daemon)': timed(client, cycle(agents)),
        'steady (fresh process)': timed(client, cycle(
            [ProviderSync(client, name) for name in names])),
    }


def report_hosts(client, units, host_counts) -> None:
    print(f'\n## Publishing hosts ({len(units)} units each: 8 GPUs + '
          f'2 QAT PFs x 16 VFs)\n')
    print('| hosts | cycle | requests | writes | seconds | requests/s | '
          'requests vs fresh process |')
    print('|---|---|---|---|---|---|---|')
    for count in host_counts:
        rows = publish_hosts(client, units, count, f'bench{count}')
        baseline = rows['steady (fresh process)'][0]
        for label, (requests, writes, seconds) in rows.items():
            print(f'| {count} | {label} | {requests} | {writes} | '
                  f'{seconds:.2f} | {requests / seconds:.0f} | '
                  f'{requests / baseline:.2f} |')
        assert rows['steady (daemon)'][1] == 0, 'steady cycle wrote'


def report_growth(client, workdir) -> None:
    print('\n## First-cycle requests of one host: devices vs pools\n')
    print('| host | units | pools | requests | writes | '
          'requests vs 8 GPU + 2x16 VF |')
    print('|---|---|---|---|---|---|')
    layouts = [
        ('8 GPU + 2 QAT PF x 16 VF', catalog.gpu_server(8, 2, 16), False),
        ('8 GPU + 4 QAT PF x 16 VF', catalog.gpu_server(8, 4, 16), False),
        ('12 GPU + 4 QAT PF x 16 VF', catalog.gpu_server(12, 4, 16), False),
        ('8 GPU + 2 QAT PF x 16 VF, pool_by_numa', catalog.gpu_server(
            8, 2, 16), True),
    ]
    baseline = None
    for label, functions, by_numa in layouts:
        units = discovered_units(workdir, functions)
        name = f'growth-{uuid.uuid4().hex[:6]}'
        compute_node(client, name)
        agent = ProviderSync(client, name, pool_by_numa=by_numa)
        requests, writes, _ = timed(client, agent.sync, units)
        pools = len(agent.sync(units))
        baseline = baseline or requests
        print(f'| {label} | {len(units)} | {pools} | {requests} | '
              f'{writes} | {requests / baseline:.2f} |')


def candidates_time(client, query: str, repeat: int = 3
                    ) -> tuple[float, str]:
    """(best seconds, what came back) of Nova's query; failures included."""
    best, outcome = None, ''
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            found = client.get(f'/allocation_candidates?{query}',
                               microversion='1.36')
        except PlacementUnreachable:
            return (time.perf_counter() - start,
                    'HTTP 500: Placement worker killed by its 30s timeout')
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
        outcome = f'{len(found["allocation_requests"])} candidate(s)'
    return best, outcome


def per_device_host(client, name: str, gpus: int) -> None:
    node = compute_node(client, name)
    for index in range(gpus):
        child = client.post('/resource_providers', {
            'name': f'{name}_gpu{index}', 'uuid': str(uuid.uuid4()),
            'parent_provider_uuid': node})
        client.put(f'/resource_providers/{child["uuid"]}/inventories', {
            'resource_provider_generation': child['generation'],
            'inventories': {'PGPU': {'total': 1}}})


def report_candidates(client, workdir, device_counts) -> None:
    print('\n## GET /allocation_candidates for N GPUs on one host\n')
    print('| N | pooled: resources:PGPU=N | per-device baseline: N groups of '
          'PGPU=1, group_policy=isolate | per-device time / pooled time |')
    print('|---|---|---|---|')
    for gpus in device_counts:
        pooled, per_device = f'pool{gpus}', f'dev{gpus}'
        compute_node(client, pooled)
        ProviderSync(client, pooled).sync(discovered_units(
            workdir, catalog.gpu_server(gpus, 0)))
        per_device_host(client, per_device, gpus)
        pooled_q = (f'limit=1000&in_tree={_uuid(client, pooled)}&'
                    f'resources={FLAVOR},PGPU:{gpus}')
        groups = '&'.join(f'resources{i}=PGPU:1' for i in range(1, gpus + 1))
        per_device_q = (f'limit=1000&in_tree={_uuid(client, per_device)}&'
                        f'group_policy=isolate&resources={FLAVOR}&{groups}')
        pooled_s, pooled_found = candidates_time(client, pooled_q)
        device_s, device_found = candidates_time(client, per_device_q, 1)
        print(f'| {gpus} | {pooled_s:.3f}s, {pooled_found} | '
              f'{device_s:.3f}s, {device_found} | {device_s / pooled_s:.0f} |')


def _uuid(client, name: str) -> str:
    return client.get_provider_by_name(name)['uuid']


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--hosts', default='1,10,100')
    parser.add_argument('--devices', default='1,2,4,6,8')
    args = parser.parse_args()
    print(run_facts.header())
    with tempfile.TemporaryDirectory() as workdir:
        server = LocalPlacement(f'{workdir}/placement')
        server.start()
        try:
            client = client_for(server.url, workdir)
            units = discovered_units(workdir, catalog.gpu_server(8, 2, 16))
            started = time.perf_counter()
            report_hosts(client, units,
                         [int(n) for n in args.hosts.split(',')])
            report_growth(client, workdir)
            report_candidates(client, workdir,
                              [int(n) for n in args.devices.split(',')])
            print(f'\nTotal benchmark time: '
                  f'{time.perf_counter() - started:.0f}s')
        finally:
            server.stop()


if __name__ == '__main__':
    main()
