"""Compute-node providers as nova-compute makes them.

Our agents nest their pools under the root provider Nova's resource tracker
creates for each host; tests and benchmarks create that root the same way
(named after the host, with VCPU/MEMORY_MB/DISK_GB inventory and traits of
Nova's own), so they can also check that the agent never writes it.
"""
import uuid

from cyborg_placement.placement.client import PlacementClient

NOVA_INVENTORY = {
    'VCPU': {'total': 64, 'allocation_ratio': 4.0},
    'MEMORY_MB': {'total': 524288, 'reserved': 2048},
    'DISK_GB': {'total': 2000},
}
NOVA_TRAITS = ['COMPUTE_NODE', 'HW_CPU_X86_AVX2', 'CUSTOM_NOVA_OWNED']


def create_compute_node(client: PlacementClient, name: str) -> str:
    """A root provider as nova-compute's resource tracker creates it."""
    node_uuid = str(uuid.uuid4())
    created = client.post('/resource_providers',
                          {'name': name, 'uuid': node_uuid})
    client.ensure_traits(NOVA_TRAITS)
    generation = client.put(f'/resource_providers/{node_uuid}/inventories', {
        'resource_provider_generation': created['generation'],
        'inventories': NOVA_INVENTORY})['resource_provider_generation']
    client.put(f'/resource_providers/{node_uuid}/traits', {
        'resource_provider_generation': generation, 'traits': NOVA_TRAITS})
    return node_uuid
