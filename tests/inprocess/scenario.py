"""What handler tests start from: a host the agent reported, whose pool is
in Placement, and instances Nova placed on it."""
import uuid

from cyborg_placement.placement.client import PlacementClient
from tools.harness.api_server import make_host

HOST = 'compute-1'


def reported_host(placement: PlacementClient, service, host: str = HOST,
                  units: int = 2) -> dict:
    """``make_host``'s pool in Placement, reported by the host's agent.

    Returns ``{'root', 'pool', 'report', 'name', 'uuids'}``.
    """
    made = make_host(placement, host, units)
    answer = service.put(f'/hosts/{host}/accelerators', json=made['report'])
    assert answer.status_code == 200, answer.json
    return dict(made, name=host,
                uuids=[a['uuid'] for a in answer.json['accelerators']])


def add_vcpus(placement: PlacementClient, host: dict) -> dict:
    """Give a reported host's compute node VCPUs to allocate."""
    provider = placement.get(f'/resource_providers/{host["root"]}')
    placement.put(f'/resource_providers/{host["root"]}/inventories', {
        'resource_provider_generation': provider['generation'],
        'inventories': {'VCPU': {'total': 64}}})
    return host


def allocate(placement: PlacementClient, consumer: str, allocations: dict,
             project: str = 'p1', consumer_type: str = 'INSTANCE') -> None:
    """Set the consumer's allocations as Nova does (empty: delete them)."""
    current = placement.get(f'/allocations/{consumer}', microversion='1.38')
    placement.put(f'/allocations/{consumer}', {
        'allocations': allocations,
        'consumer_generation': current.get('consumer_generation'),
        'project_id': project, 'user_id': 'u1',
        'consumer_type': consumer_type}, microversion='1.38')


def schedule(placement: PlacementClient, host: dict, units: int,
             instance: str | None = None, project: str = 'p1') -> str:
    """An instance Nova placed on ``host``: VCPU on the compute node and
    ``units`` of the pool, in one allocation."""
    instance = instance or str(uuid.uuid4())
    allocations = {host['root']: {'resources': {'VCPU': 2}}}
    if units:
        allocations[host['pool']] = {'resources': {'PGPU': units}}
    allocate(placement, instance, allocations, project)
    return instance


def instance(placement: PlacementClient, root: str, project: str = 'p1'
             ) -> str:
    """An instance Nova scheduled onto ``root``: its own VCPU allocation."""
    instance_uuid = str(uuid.uuid4())
    add_vcpus(placement, {'root': root})
    placement.put(f'/allocations/{instance_uuid}', {
        'allocations': {root: {'resources': {'VCPU': 2}}},
        'consumer_generation': None, 'project_id': project,
        'user_id': 'u1', 'consumer_type': 'INSTANCE'}, microversion='1.38')
    return instance_uuid


def units_held(placement: PlacementClient, consumer: str, pool: str) -> int:
    """PGPU units ``consumer`` holds in ``pool``."""
    found = placement.get(f'/allocations/{consumer}')['allocations']
    return found.get(pool, {}).get('resources', {}).get('PGPU', 0)


def code(answer) -> str:
    """The error code of an error response."""
    return answer.json['errors'][0]['code']


def v2(client, version: str | None = '2.3'):
    """``client`` speaking to the /v2 subset at ``version`` (None: no
    version header, as Nova sends)."""
    client.environ_base.pop('HTTP_OPENSTACK_API_VERSION', None)
    if version is not None:
        client.environ_base['HTTP_OPENSTACK_API_VERSION'] = (
            f'accelerator {version}')
    return client
