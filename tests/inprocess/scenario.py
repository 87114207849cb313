"""What handler tests start from: a host the agent reported, whose pool is
in Placement, and instances Nova placed on it."""
import uuid

from cyborg_placement.placement.client import PlacementClient
from tests.api_server import make_host

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


def instance(placement: PlacementClient, root: str, project: str = 'p1'
             ) -> str:
    """An instance Nova scheduled onto ``root``: its own VCPU allocation."""
    instance_uuid = str(uuid.uuid4())
    provider = placement.get(f'/resource_providers/{root}')
    placement.put(f'/resource_providers/{root}/inventories', {
        'resource_provider_generation': provider['generation'],
        'inventories': {'VCPU': {'total': 64}}})
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
