"""Claims of one accelerator unit in Placement, merged into a consumer.

A claim adds one unit of the pool's resource class to the consumer's
allocations, keeping what the consumer already holds (an instance's flavor
allocation stays as Nova made it). Writes carry ``consumer_generation`` and are
retried when someone else changed the consumer in between.
"""
import dataclasses

from cyborg_placement.attach import exceptions
from cyborg_placement.placement import client as placement_client

#: consumer_generation (1.28), project/user on PUT, consumer types (1.38).
MICROVERSION = '1.38'
INSTANCE = 'INSTANCE'
HOST_CONSUMER = 'ACCELERATOR_HOST'


@dataclasses.dataclass
class Consumer:
    uuid: str
    allocations: dict
    generation: int | None = None
    project_id: str | None = None
    user_id: str | None = None
    consumer_type: str | None = None

    def units(self, provider: str, resource_class: str) -> int:
        held = self.allocations.get(provider, {}).get('resources', {})
        return held.get(resource_class, 0)

    def with_units(self, provider: str, resource_class: str, units: int
                   ) -> dict:
        """The allocations body with ``units`` of the class on ``provider``."""
        allocations = {rp: {'resources': dict(a['resources'])}
                       for rp, a in self.allocations.items()}
        resources = allocations.setdefault(provider, {'resources': {}})[
            'resources']
        resources[resource_class] = units
        if units == 0:
            del resources[resource_class]
            if not resources:
                del allocations[provider]
        return allocations


def read(placement: placement_client.PlacementClient, uuid: str) -> Consumer:
    found = placement.get(f'/allocations/{uuid}', microversion=MICROVERSION)
    return Consumer(uuid, found.get('allocations', {}),
                    found.get('consumer_generation'), found.get('project_id'),
                    found.get('user_id'), found.get('consumer_type'))


def _write(placement, consumer: Consumer, allocations: dict, project_id: str,
           user_id: str, consumer_type: str) -> None:
    placement.put(f'/allocations/{consumer.uuid}', {
        'allocations': allocations,
        'consumer_generation': consumer.generation,
        'project_id': consumer.project_id or project_id,
        'user_id': consumer.user_id or user_id,
        'consumer_type': consumer_type,
    }, microversion=MICROVERSION)


def _retrying(placement, uuid: str, retries: int, change) -> Consumer:
    """Read the consumer and apply ``change``, again on generation conflicts."""
    for _ in range(retries):
        consumer = read(placement, uuid)
        try:
            change(consumer)
            return consumer
        except placement_client.Conflict as exc:
            if not exc.is_generation_conflict:
                raise
    raise exceptions.Contended(f'Consumer {uuid} kept changing in Placement; '
                        f'gave up after {retries} tries.')


def claim(placement, uuid: str, provider: str, resource_class: str, *,
          project_id: str, user_id: str, consumer_type: str,
          retries: int) -> Consumer:
    """Add one unit; return the consumer as it was before the claim."""
    def add(consumer):
        units = consumer.units(provider, resource_class) + 1
        _write(placement, consumer,
               consumer.with_units(provider, resource_class, units),
               project_id, user_id, consumer.consumer_type or consumer_type)
    return _retrying(placement, uuid, retries, add)


def release(placement, uuid: str, provider: str, resource_class: str, *,
            keep: int, retries: int) -> bool:
    """Remove one unit unless only ``keep`` units (not ours) remain.

    ``keep`` makes a repeated release (after a crash) a no-op instead of
    taking a unit someone else holds. An emptied consumer is deleted.
    """
    removed = []

    def remove(consumer):
        units = consumer.units(provider, resource_class)
        if units <= keep:
            return
        allocations = consumer.with_units(provider, resource_class, units - 1)
        _write(placement, consumer, allocations, consumer.project_id,
               consumer.user_id, consumer.consumer_type or INSTANCE)
        removed.append(True)
    _retrying(placement, uuid, retries, remove)
    return bool(removed)


def host_tree(placement, provider: str) -> set[str]:
    """Every provider of the host (the tree) ``provider`` belongs to."""
    root = placement.get(f'/resource_providers/{provider}')[
        'root_provider_uuid']
    return {p['uuid'] for p in placement.providers_in_tree(root)}
