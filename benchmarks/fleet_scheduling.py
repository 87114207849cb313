"""Nova's scheduling query over a fleet: our pools beside upstream's layout.

Part of ``benchmarks/fleet.py``: the same GPUs of every host of the fleet
published again the way upstream Cyborg publishes them (one provider per
device), on the same Placement, and Nova's own query
(``nova.scheduler.utils.ResourceRequest``) for 1 and 8 GPUs timed on both.
"""
import concurrent.futures
import time
import uuid

from cyborg_placement.placement.client import PlacementUnreachable
from tools.harness import nova_compute
from tools.harness import nova_request


def per_device_twins(client, hosts, threads: int = 32) -> list[str]:
    """The same GPUs as upstream Cyborg publishes them: one provider each.

    Traits as upstream Cyborg's GPU driver names them, so a flavor's trait
    selects one layout or the other on the same Placement.
    """
    def twin(host) -> str | None:
        gpus = [p for p in host.pools.values() if p.resource_class == 'PGPU']
        if not gpus:
            return None
        name = f'{host.name}-perdev'
        node = nova_compute.create_compute_node(client, name)
        for index in range(sum(p.total for p in gpus)):
            child = client.post('/resource_providers', {
                'name': f'{name}_gpu{index}', 'uuid': str(uuid.uuid4()),
                'parent_provider_uuid': node})
            after = client.put(
                f'/resource_providers/{child["uuid"]}/inventories', {
                    'resource_provider_generation': child['generation'],
                    'inventories': {'PGPU': {'total': 1}}})
            client.put(f'/resource_providers/{child["uuid"]}/traits', {
                'resource_provider_generation':
                    after['resource_provider_generation'],
                'traits': ['OWNER_CYBORG', 'CUSTOM_GPU_NVIDIA',
                           'CUSTOM_GPU_PRODUCT_ID_2330']})
        return name

    for trait in ('CUSTOM_GPU_NVIDIA', 'CUSTOM_GPU_PRODUCT_ID_2330'):
        client.put(f'/traits/{trait}')
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return [n for n in pool.map(twin, hosts) if n]


def compare(client, hosts, top: float) -> dict:
    """Nova's query for 1 and 8 GPUs over both layouts; print the table and
    return its rows."""
    started = time.monotonic()
    twins = per_device_twins(client, hosts)
    print(f'\n# per-device layout: {len(twins)} twin hosts in '
          f'{time.monotonic() - started:.0f} s', flush=True)
    requests_ = {}
    for count in (1, 8):
        requests_[f'pooled PGPU={count}'] = ({
            'resources:PGPU': str(count),
            'trait:CUSTOM_ACCEL_PRODUCT_10DE_2330': 'required'}, [])
        requests_[f'per-device PGPU={count}'] = ({
            'resources:PGPU': str(count),
            'trait:CUSTOM_GPU_PRODUCT_ID_2330': 'required'}, [])
    # Upstream Cyborg asks for 8 devices as 8 request groups of one (a
    # device profile of 8 groups): one provider cannot hold 8 of them.
    groups = {'group_policy': 'isolate'}
    for group in range(1, 9):
        groups[f'resources{group}:PGPU'] = '1'
        groups[f'trait{group}:CUSTOM_GPU_PRODUCT_ID_2330'] = 'required'
    requests_['per-device 8 groups of PGPU=1 (isolate)'] = (groups, [])
    queries = nova_request.allocation_candidate_queries(requests_)
    print('\n## Nova scheduling query over the fleet\n', flush=True)
    print('| request | query | best of 5 s | candidates | '
          'queries/s vs ceiling |\n|---|---|---|---|---|', flush=True)
    rows = {}
    for name, query in queries.items():
        best, found = None, ''
        for _ in range(5):
            began = time.monotonic()
            try:
                body = client.get(f'/allocation_candidates?{query}',
                                  microversion='1.36')
                found = str(len(body['allocation_requests']))
            except PlacementUnreachable as exc:
                found = f'failed: HTTP {str(exc).rsplit(": ", 1)[-1]}'
            elapsed = time.monotonic() - began
            best = elapsed if best is None else min(best, elapsed)
            if found.startswith('failed'):
                break
        rows[name] = {'query': query, 'seconds': round(best, 3),
                      'candidates': found,
                      'vs_ceiling': round((1 / best) / top, 4)}
        print(f'| {name} | `{query}` | {best:.3f} | {found} | '
              f'{(1 / best) / top:.4f} |', flush=True)
    return rows
