"""Cyborg's attributes of a deployable, on our units.

A unit's resource class (``rc``) and its pool's standard traits
(``trait0``, ``trait1``, ...) are attributes, as Cyborg's drivers report
them; they follow the device report and are not stored, so they cannot be
added or deleted. An admin adds others (any key and value). One whose key
starts with ``trait`` names a custom trait: it changes scheduling, so the
API writes it to the unit's pool provider in Placement, as an operator sets
a trait by hand (the agent keeps such traits), and takes it off again when
the last attribute of the pool's units naming it goes. Placement counts
pools, not units: the trait is the whole pool's (docs/nova-cyborg.md).
"""
import dataclasses
import datetime
import uuid as uuid_lib

from cyborg_placement import vocabulary
from cyborg_placement.attach import exceptions
from cyborg_placement.attach import flow
from cyborg_placement.db import attributes
from cyborg_placement.db import models
from cyborg_placement.placement import client as placement_client

RESOURCE_CLASS_KEY = 'rc'
TRAIT_PREFIX = 'trait'
#: Derived attributes' uuids: uuid5 of "<unit uuid>/<key>" in this space.
_NAMESPACE = uuid_lib.UUID('4c7c1a52-2f0e-4b8a-9a5e-8a0f3f6d2b91')
_RETRIES = 5
#: Up to this many units are looked up by id, more by reading them all.
_IN_LIMIT = 500


@dataclasses.dataclass(frozen=True)
class Attribute:
    """One attribute as the API shows it, stored or derived."""

    uuid: str
    unit: models.Accelerator
    key: str
    value: str
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    derived: bool


def derived(unit: models.Accelerator) -> list[Attribute]:
    """``rc`` and ``trait<N>`` of a reported unit (none for a record an
    admin made, which is in no pool)."""
    if unit.pool_provider_uuid is None or unit.vendor_id is None:
        return []
    traits = sorted(vocabulary.standard_traits(unit))
    pairs = [(RESOURCE_CLASS_KEY, unit.resource_class)] + [
        (f'{TRAIT_PREFIX}{n}', trait) for n, trait in enumerate(traits)]
    return [Attribute(str(uuid_lib.uuid5(_NAMESPACE, f'{unit.uuid}/{key}')),
                      unit, key, value, unit.created_at, unit.updated_at,
                      True) for key, value in pairs]


def stored(record: models.Attribute) -> Attribute:
    return Attribute(record.uuid, record.accelerator, record.key,
                     record.value, record.created_at, record.updated_at,
                     False)


def is_trait(key: str) -> bool:
    return key.startswith(TRAIT_PREFIX)


def _set_pool_trait(placement: placement_client.PlacementClient,
                    pool: str, trait: str, present: bool) -> None:
    """Add or remove one trait of a pool provider, keeping the others,
    re-reading on a generation conflict."""
    if present:
        placement.ensure_traits([trait])
    for _ in range(_RETRIES):
        try:
            found = placement.get(f'/resource_providers/{pool}/traits')
        except placement_client.NotFound:
            raise exceptions.NoPool(
                f'Pool provider {pool} is not in Placement (its agent '
                'has not published it).') from None
        traits = set(found['traits'])
        wanted = traits | {trait} if present else traits - {trait}
        if wanted == traits:
            return
        try:
            placement.put(f'/resource_providers/{pool}/traits', {
                'traits': sorted(wanted),
                'resource_provider_generation':
                    found['resource_provider_generation']})
            return
        except placement_client.Conflict as exc:
            if not exc.is_generation_conflict:
                raise
    raise exceptions.Contended(
        f'Pool provider {pool} kept changing; try again.')


def create(services: flow.Services, unit: models.Accelerator, key: str,
           value: str) -> Attribute:
    """Store the attribute, then (a trait) put it on the unit's pool; if
    Placement refuses or is unreachable, the attribute is not kept."""
    if key in {a.key for a in derived(unit)}:
        raise exceptions.DerivedAttribute(
            f'{key!r} of deployable {unit.uuid} comes from its device '
            'report; choose another key.')
    if is_trait(key) and unit.pool_provider_uuid is None:
        raise exceptions.NoPool(
            f'Deployable {unit.uuid} is in no pool: a trait needs one.')
    record = attributes.create(services.db, unit, key, value)
    if is_trait(key):
        try:
            _set_pool_trait(services.placement, unit.pool_provider_uuid,
                            value, True)
        except Exception:
            attributes.delete(services.db, record.uuid)
            raise
    return stored(record)


def delete(services: flow.Services, shown: Attribute) -> None:
    """Forget an attribute an admin gave (``rc`` and the traits follow the
    report); a trait leaves the pool first, unless another attribute of
    the pool's units still names it."""
    if shown.derived:
        raise exceptions.DerivedAttribute(
            f'Attribute {shown.key!r} of deployable {shown.unit.uuid} comes '
            'from its device report and cannot be deleted.')
    pool = shown.unit.pool_provider_uuid
    if is_trait(shown.key) and pool is not None and \
            shown.value not in attributes.pool_values(
                services.db, pool, TRAIT_PREFIX, excluding=shown.uuid):
        try:
            _set_pool_trait(services.placement, pool, shown.value, False)
        except exceptions.NoPool:
            pass  # The pool is gone from Placement, and its traits with it.
    attributes.delete(services.db, shown.uuid)


def of_units(services: flow.Services, units: list[models.Accelerator],
             key: str | None = None) -> list[Attribute]:
    """The attributes of these units, each unit's derived ones first."""
    kept = {unit.id: [] for unit in units}
    # A long list of ids is slower to send than the few rows it saves.
    ids = list(kept) if len(kept) <= _IN_LIMIT else None
    for record in attributes.list_all(services.db, accelerator_ids=ids,
                                      key=key):
        if record.accelerator_id in kept:
            kept[record.accelerator_id].append(stored(record))
    return [attribute for unit in units
            for attribute in [*derived(unit), *kept[unit.id]]
            if key is None or attribute.key == key]
