"""Claims of accelerator units in Placement, merged into a consumer.

The API never adds or takes "one unit": it sets the units of a pool's
resource class that a consumer holds to what its records want (see
:func:`set_units`), keeping what else the consumer holds (an instance's
flavor allocation stays as Nova made it). So every write can be repeated
after a crash or a lost race. Writes carry ``consumer_generation`` and are
retried when someone else changed the consumer in between.
"""
from collections.abc import Callable
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


def set_units(placement, uuid: str, provider: str, resource_class: str,
              wanted: Callable[[], int], *, grow: bool, project_id: str | None,
              user_id: str | None, consumer_type: str, retries: int) -> int:
    """Make the consumer hold ``wanted()`` units of the class on ``provider``.

    ``wanted`` is asked again on every try, after the consumer is read, and
    the allocations are written even when they do not change: a write
    succeeds only if no other write came between its read of the consumer
    and itself, so the last write of concurrent callers carries the records
    as they were after the last of them changed, whatever the order.
    Without ``grow`` units are only ever taken away (a release never
    claims). An emptied consumer is deleted. Returns the units held after.
    """
    held = []

    def change(consumer):
        units = consumer.units(provider, resource_class)
        target = wanted()
        if not grow:
            target = min(target, units)
        held[:] = [target]
        if target == units and consumer.generation is None:
            return  # no consumer, and none wanted
        # Written even when unchanged: the new generation makes a racing
        # writer that read the records before us read them again.
        _write(placement, consumer,
               consumer.with_units(provider, resource_class, target),
               project_id, user_id, consumer.consumer_type or consumer_type)
    _retrying(placement, uuid, retries, change)
    return held[0]


class PoolReads:
    """The consumers of pools as Placement has them, each pool read once.

    One feed read both sweeps a pool's API claims and releases its stale
    bindings; both are served from one ``GET
    /resource_providers/{pool}/allocations``. A pool Placement does not
    know (its provider was deleted, or Placement's database restored) is
    one where nothing is held, and is named in :attr:`missing`.
    """

    def __init__(self, placement: placement_client.PlacementClient) -> None:
        self.placement = placement
        self.missing: set[str] = set()
        self._held: dict[str, dict[str, int]] = {}

    def held(self, provider: str, resource_class: str) -> dict[str, int]:
        """Units of the class that each consumer holds on ``provider``."""
        if provider not in self._held:
            try:
                found = self.placement.get(
                    f'/resource_providers/{provider}/allocations')
            except placement_client.NotFound:
                self.missing.add(provider)
                found = {}
            self._held[provider] = {
                consumer: held['resources'].get(resource_class, 0)
                for consumer, held in found.get('allocations', {}).items()
                if held['resources'].get(resource_class)}
        return self._held[provider]


def check_pool(placement, provider: str) -> dict:
    """The pool's provider; :class:`exceptions.PoolNotInPlacement` when
    Placement does not have it."""
    try:
        return placement.get(f'/resource_providers/{provider}')
    except placement_client.NotFound:
        raise exceptions.PoolNotInPlacement(provider) from None


def host_tree(placement, provider: str) -> set[str]:
    """Every provider of the host (the tree) ``provider`` belongs to."""
    root = check_pool(placement, provider)['root_provider_uuid']
    return {p['uuid'] for p in placement.providers_in_tree(root)}
