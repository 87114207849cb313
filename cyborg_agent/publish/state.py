"""What the agent last saw of its providers, and what it wants them to become.

The sync keeps one :class:`KnownProvider` per provider of this host's tree, with
the generation it was read or written at: an unchanged generation means nobody
changed the provider, so the cached inventories, traits and usages can be
trusted without reading them again. The functions here are pure: they decide
the next traits and inventories from the cached state and the desired pool,
and turn the known providers into the document a restarted agent starts from
(``[agent] state_dir``) and back.
"""
import dataclasses

import os_traits

from cyborg_agent.publish import pools
from cyborg_agent.publish import tree
from cyborg_placement import vocabulary

#: Fields of an inventory the agent sets; Placement may answer with more.
INVENTORY_FIELDS = ('total', 'reserved', 'min_unit', 'max_unit', 'step_size',
                    'allocation_ratio')


@dataclasses.dataclass
class KnownProvider:
    """A provider of this host's tree as Placement last showed it."""

    uuid: str
    name: str
    parent_uuid: str | None
    generation: int
    traits: frozenset[str] = frozenset()
    inventories: dict[str, dict] = dataclasses.field(default_factory=dict)
    owned: bool = False
    usages: dict[str, int] | None = None
    usages_generation: int | None = None
    retaining: bool = False

    @property
    def usages_current(self) -> bool:
        """Whether cached usages can be trusted.

        New allocations bump a provider's generation, but Placement deletes
        allocations without bumping it: while the provider keeps units only
        for their allocations, only a fresh read tells when they are gone.
        """
        return (self.usages is not None and not self.retaining
                and self.usages_generation == self.generation)

    def advance(self, generation: int) -> None:
        """Record a generation our own write produced.

        Our writes never allocate, so usages read at the previous generation
        are still true at the new one.
        """
        if self.usages_current:
            self.usages_generation = generation
        self.generation = generation


#: Version of the saved document; another one is ignored, not migrated.
SAVED_FORMAT = 1


def saved_document(root_name: str, root_uuid: str,
                   known: dict[str, KnownProvider],
                   rule_traits: dict[str, frozenset[str]]) -> dict:
    """What a restarted agent needs to trust instead of reading again.

    Usages are left out: they change without a generation bump (a deleted
    allocation), so they are read again whenever they matter.
    """
    return {
        'format': SAVED_FORMAT, 'root_name': root_name, 'root_uuid': root_uuid,
        'providers': {uuid: {
            'name': k.name, 'parent_uuid': k.parent_uuid,
            'generation': k.generation, 'traits': sorted(k.traits),
            'inventories': k.inventories, 'owned': k.owned,
            'rule_traits': sorted(rule_traits.get(uuid, ())),
        } for uuid, k in sorted(known.items())},
    }


def from_saved(document: dict, root_name: str) -> tuple[
        str, dict[str, KnownProvider], dict[str, frozenset[str]]]:
    """The root uuid, providers and rule traits of a saved document.

    Raises ``ValueError`` when the document is not one this agent wrote for
    this root: the caller ignores it and reads Placement instead.
    """
    if document.get('format') != SAVED_FORMAT:
        raise ValueError(f'format {document.get("format")!r}, not '
                         f'{SAVED_FORMAT}')
    if document.get('root_name') != root_name:
        raise ValueError(f'saved for {document.get("root_name")!r}')
    try:
        known, rules = {}, {}
        for uuid, saved in document['providers'].items():
            known[uuid] = KnownProvider(
                str(uuid), str(saved['name']), saved['parent_uuid'],
                int(saved['generation']),
                frozenset(str(t) for t in saved['traits']),
                {str(rc): dict(inv)
                 for rc, inv in saved['inventories'].items()},
                bool(saved['owned']))
            if saved['rule_traits']:
                rules[uuid] = frozenset(str(t) for t in saved['rule_traits'])
        return str(document['root_uuid']), known, rules
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f'malformed: {exc!r}') from None


def is_ours(uuid: str, name: str, traits: frozenset[str],
            inventories: dict) -> bool:
    """Whether the agent may change this provider.

    ``OWNER_CYBORG`` marks our providers. A provider with our own uuid5 of its
    name and neither traits nor inventory is one we created in a cycle that was
    interrupted before its traits were set (Placement went away): adopting it
    is what makes the next cycle converge without duplicates.
    """
    if os_traits.OWNER_CYBORG in traits:
        return True
    return (uuid == pools.provider_uuid(name) and not traits
            and not inventories)


def wanted_traits(current: frozenset[str], desired: frozenset[str],
                  rule_traits_set: frozenset[str]) -> frozenset[str]:
    """Desired traits plus those an operator set by hand.

    Only traits the agent owns are added or removed: ``OWNER_CYBORG``, the
    ``CUSTOM_ACCEL_*`` ones and the rule traits it set before.
    """
    def agent_owned(trait: str) -> bool:
        return vocabulary.is_owned_trait(trait) or trait in rule_traits_set

    kept = frozenset(t for t in current if not agent_owned(t))
    return kept | desired


def needs_usages(known: KnownProvider, desired: tree.PoolProvider | None
                 ) -> bool:
    """Usages matter only when inventory would shrink or a class would go."""
    for resource_class, current in known.inventories.items():
        if desired is None or resource_class != desired.resource_class:
            return True
        if desired.total < current['total']:
            return True
    return False


def wanted_inventories(known: KnownProvider, desired: tree.PoolProvider | None,
                       usages: dict[str, int]) -> dict[str, dict]:
    """Inventories that never fall below what is allocated.

    A unit that disappeared while allocated stays counted (``total = max(
    present, used)``) and reserved, so Placement hands it to nobody else and
    the allocation stays valid until its holder lets it go.
    """
    wanted = {}
    if desired is not None:
        present = desired.total
        total = max(present, usages.get(desired.resource_class, 0))
        reserved = min(total, desired.reserved + total - present)
        wanted[desired.resource_class] = tree.inventory(total, reserved)
    for resource_class in known.inventories:
        used = usages.get(resource_class, 0)
        if resource_class not in wanted and used:
            wanted[resource_class] = tree.inventory(used, used)
    return wanted


def same_inventories(current: dict[str, dict], wanted: dict[str, dict]
                     ) -> bool:
    if current.keys() != wanted.keys():
        return False
    return all(
        all(current[rc].get(field) == wanted[rc][field]
            for field in INVENTORY_FIELDS)
        for rc in wanted)


def retained(wanted: dict[str, dict], desired: tree.PoolProvider | None
             ) -> int:
    """How many units are kept only because they are still allocated."""
    present = desired.total if desired is not None else 0
    return sum(inv['total'] for inv in wanted.values()) - present
