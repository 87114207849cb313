"""The provider tree one host should have in Placement, computed from its units.

A pure function of the discovered units: the sync compares it with what
Placement holds. Units with the same pool key are interchangeable, so they
become one provider whose inventory counts them; that keeps Placement trees
narrow (``resources:PGPU=8`` is one provider with 8 units, not 8 groups).
"""
from collections.abc import Iterable
import dataclasses

from cyborg_agent.publish import pools
from cyborg_placement.vocabulary import Unit


@dataclasses.dataclass(frozen=True)
class PoolProvider:
    """One pool as a nested resource provider of the compute node."""

    name: str
    uuid: str
    parent_uuid: str | None
    resource_class: str
    total: int
    reserved: int
    traits: frozenset[str]
    rule_traits: frozenset[str]
    #: The keys (:attr:`Unit.key`) of the units counted in it.
    units: tuple[tuple[str, str | None], ...]

    @property
    def inventories(self) -> dict[str, dict]:
        return {self.resource_class: inventory(self.total, self.reserved)}


def inventory(total: int, reserved: int) -> dict:
    """Placement inventory of a pool: whole units, no overcommit."""
    return {
        'total': total,
        'reserved': reserved,
        'min_unit': 1,
        'max_unit': total,
        'step_size': 1,
        'allocation_ratio': 1.0,
    }


def _pools(units: Iterable[Unit], pool_by_numa: bool
           ) -> dict[pools.PoolKey, list[Unit]]:
    grouped: dict[pools.PoolKey, list[Unit]] = {}
    for unit in units:
        grouped.setdefault(pools.pool_key(unit, pool_by_numa), []).append(unit)
    return grouped


def _not_offered(members: list[Unit], held: frozenset[str]) -> int:
    """The units of a vGPU pool the driver would not create now: those it
    does not list (blocked), and, on each GPU, the free ones past what the
    profile's cap leaves once the vGPUs there and those bound (held, not
    created yet) are counted."""
    blocked = 0
    by_gpu: dict[str, list[Unit]] = {}
    for unit in members:
        if unit.vgpu_state == 'blocked':
            blocked += 1
        elif unit.vgpu_max is not None:
            by_gpu.setdefault(unit.parent_address, []).append(unit)
    capped = 0
    for units in by_gpu.values():
        taken = sum(1 for u in units if u.vgpu_state == 'created'
                    or u.address in held)
        free = sum(1 for u in units if u.vgpu_state == 'creatable'
                   and u.address not in held and u.schedulable)
        capped += max(0, free - max(0, units[0].vgpu_max - taken))
    return blocked + capped


def build(root_name: str, root_uuid: str | None, units: Iterable[Unit],
          pool_by_numa: bool = False,
          held: frozenset[str] = frozenset()) -> dict[str, PoolProvider]:
    """The desired pool providers of one host, by provider uuid.

    The one place pool provider names and uuids are derived: the sync
    publishes this tree, the device report and ``cyborg-agent discover``
    read names and uuids from it. ``root_uuid`` is None where Placement is
    not asked (``discover``).

    Unhealthy and disabled units stay counted in ``total`` and are
    ``reserved`` while free: an operator sees them in Placement, but nobody
    is scheduled onto them. ``held`` are the addresses of units an
    attachment holds (the API says which): they are used, not reserved, so
    a healthy free unit beside them stays on offer. The sync also keeps
    ``reserved`` within what is not allocated. In a vGPU pool, units the
    driver would not create now are reserved too (:func:`_not_offered`),
    so ``total - reserved`` is what the host's GPUs can still hold plus
    what they hold: a vGPU made or deleted changes ``reserved`` only, in
    the pools whose offer it changed.
    """
    tree = {}
    for key, members in sorted(_pools(units, pool_by_numa).items()):
        name = pools.provider_name(root_name, key)
        provider = PoolProvider(
            name=name,
            uuid=pools.provider_uuid(name),
            parent_uuid=root_uuid,
            resource_class=key.resource_class,
            total=len(members),
            reserved=sum(1 for unit in members if not unit.schedulable
                         and unit.address not in held
                         and unit.vgpu_state != 'blocked')
            + _not_offered(members, held),
            traits=key.traits,
            rule_traits=key.extra_traits,
            units=tuple(sorted(unit.key for unit in members)),
        )
        tree[provider.uuid] = provider
    return tree


def provider_of_units(tree: dict[str, PoolProvider]
                      ) -> dict[tuple[str, str | None], PoolProvider]:
    """Unit key (:attr:`Unit.key`) -> the pool provider it is counted in."""
    return {key: provider
            for provider in tree.values() for key in provider.units}
