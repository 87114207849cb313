"""Data access for attachments: the claim record, state changes, change feed.

Every write is one short transaction; none stays open across a call to
Placement. Each change of an attachment takes the next revision of its
accelerator's host, so the host's reconciler can ask for what changed.
"""
import dataclasses
import datetime
import uuid as uuid_lib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from cyborg_placement.db import changes as observed
from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import exceptions
from cyborg_placement.db import models

#: The reports a host's reconciler may send, by the state they leave.
TRANSITIONS = {
    models.ATTACHED: (models.ATTACHING,),
    models.ATTACH_FAILED: (models.ATTACHING,),
    models.DETACHED: (models.DETACHING,),
}


def _ensure_host_revision(db: db_engine.Database, host: str) -> None:
    """Make the host's revision row exist before a writer locks it.

    In a transaction of its own: inside the writer's, the insert would
    follow an UPDATE that found no row, and on MySQL/MariaDB that UPDATE's
    gap lock makes two first attaches on a host deadlock (InnoDB then rolls
    back the whole transaction, savepoint included: a 500) instead of one
    waiting for the other.
    """
    with db.reader() as session:
        if session.scalar(sa.select(models.HostRevision.host).where(
                models.HostRevision.host == host)) is not None:
            return
    try:
        with db.writer() as session:
            session.add(models.HostRevision(host=host, revision=0))
    except sa_exc.IntegrityError:
        pass  # another writer made it first


def _next_host_revision(session: orm.Session, host: str) -> int:
    """Take the host's next revision, holding its row lock until commit.

    The row exists: every writer runs :func:`_ensure_host_revision` first.
    """
    session.execute(
        sa.update(models.HostRevision).where(models.HostRevision.host == host)
        .values(revision=models.HostRevision.revision + 1))
    return session.scalar(sa.select(models.HostRevision.revision).where(
        models.HostRevision.host == host))


def _get(session: orm.Session, uuid: str) -> models.Attachment:
    found = session.scalar(sa.select(models.Attachment).where(
        models.Attachment.uuid == uuid))
    if found is None:
        raise exceptions.AttachmentNotFound(f'No attachment {uuid}.')
    return found


def get(db: db_engine.Database, uuid: str) -> models.Attachment:
    with db.reader() as session:
        return _get(session, uuid)


def active_for(db: db_engine.Database, accelerator_id: int
               ) -> models.Attachment | None:
    with db.reader() as session:
        return session.scalar(sa.select(models.Attachment).where(
            models.Attachment.active_accelerator_id == accelerator_id))


def begin_attach(db: db_engine.Database, accelerator: models.Accelerator, *,
                 consumer_uuid: str, instance_uuid: str | None = None,
                 host: str | None = None, project_id: str | None = None,
                 user_id: str | None = None, api_claim: bool = True,
                 base_units: int = 0, driver: str | None = None
                 ) -> models.Attachment:
    """Write the ``attaching`` record that makes this caller the one winner.

    It is written before the claim, with the consumer it will claim for, so a
    crash after the claim leaves enough behind to finish or roll back.
    """
    return _insert(db, accelerator, models.Attachment(
        instance_uuid=instance_uuid, host=host, project_id=project_id,
        user_id=user_id, state=models.ATTACHING, consumer_uuid=consumer_uuid,
        api_claim=api_claim, claimed=not api_claim, base_units=base_units,
        driver=driver))


def begin_binding(db: db_engine.Database, accelerator: models.Accelerator,
                  *, instance_uuid: str, project_id: str | None,
                  user_id: str | None) -> models.Attachment:
    """Record that the instance's own allocation holds this unit, for a
    Nova driver that puts it into the guest's XML.

    Written ``attached`` and not ``claimed``: nothing of it is in Placement
    that is ours, and the host's reconciler, which is fed claimed records
    only, never acts on it.
    """
    return _insert(db, accelerator, models.Attachment(
        instance_uuid=instance_uuid, project_id=project_id, user_id=user_id,
        state=models.ATTACHED, consumer_uuid=instance_uuid, api_claim=False,
        claimed=False))


def _function_taken(session: orm.Session,
                    accelerator: models.Accelerator) -> bool:
    """Whether another unit of the accelerator's PCI function (another
    vGPU profile of its VF) is held. Asked under the host's revision lock,
    which every attach on the host takes: two units of one VF are never
    given out at once."""
    siblings = sa.select(models.Accelerator.id).where(
        models.Accelerator.host == accelerator.host,
        models.Accelerator.pci_address == accelerator.pci_address,
        models.Accelerator.id != accelerator.id)
    return session.scalar(sa.select(models.Attachment.id).where(
        models.Attachment.active_accelerator_id.in_(siblings)).limit(1)
    ) is not None


def _insert(db: db_engine.Database, accelerator: models.Accelerator,
            record: models.Attachment) -> models.Attachment:
    """Write a record that holds the accelerator, or refuse if one does
    (or holds another vGPU unit of its VF)."""
    record.uuid = str(uuid_lib.uuid4())
    record.accelerator_id = record.active_accelerator_id = accelerator.id
    record.agent_host = accelerator.host or ''
    _ensure_host_revision(db, record.agent_host)
    try:
        with db.writer() as session:
            record.host_revision = _next_host_revision(
                session, record.agent_host)
            if accelerator.vgpu_type is not None and _function_taken(
                    session, accelerator):
                raise exceptions.AlreadyAttached(
                    f'Accelerator {accelerator.uuid}: another vGPU of VF '
                    f'{accelerator.pci_address} is attached.')
            session.add(record)
    except sa_exc.IntegrityError:
        raise exceptions.AlreadyAttached(
            f'Accelerator {accelerator.uuid} is attached elsewhere.') from None
    # As records read back have it: the flow reads the pool from it.
    orm.attributes.set_committed_value(record, 'accelerator', accelerator)
    db.publish(observed.of_attachment(record, None))
    return record


def _change(db: db_engine.Database, attachment: models.Attachment,
            expected: dict, **values) -> models.Attachment | None:
    """Update one attachment if it still has ``expected`` values; bump its host.

    The host's revision row is locked first, as by :func:`begin_attach`:
    every writer of a host's attachments then waits in the same order (no
    deadlock with an insert waiting on the unique index), and the record is
    read after the lock, so the check sees the last committed change.
    Returns None when someone else changed it first.
    """
    _ensure_host_revision(db, attachment.agent_host)
    with db.writer() as session:
        revision = _next_host_revision(session, attachment.agent_host)
        record = session.get(models.Attachment, attachment.id)
        if record is None or any(getattr(record, key) != value
                                 for key, value in expected.items()):
            return None
        before = (record.state, record.claimed)
        for key, value in values.items():
            setattr(record, key, value)
        record.host_revision = revision
    db.publish(observed.of_attachment(record, before))
    return record


def mark_claimed(db: db_engine.Database, attachment: models.Attachment
                 ) -> models.Attachment | None:
    return _change(db, attachment,
                   {'state': models.ATTACHING, 'claimed': False},
                   claimed=True)


def finish(db: db_engine.Database, attachment: models.Attachment, state: str,
           reason: str | None = None) -> models.Attachment | None:
    """Move to a final state (the accelerator is free again) or to attached."""
    values = {'state': state}
    if state in models.FINAL_STATES:
        values['active_accelerator_id'] = None
    if reason is not None:
        values['reason'] = reason
    return _change(db, attachment, {'state': attachment.state}, **values)


def roll_back(db: db_engine.Database, attachment: models.Attachment,
              reason: str) -> models.Attachment | None:
    """End an ``attaching`` record whose claim was never confirmed."""
    return _change(db, attachment,
                   {'state': models.ATTACHING, 'claimed': False},
                   state=models.ATTACH_FAILED, active_accelerator_id=None,
                   reason=reason)


def release_binding(db: db_engine.Database, attachment: models.Attachment,
                    reason: str) -> models.Attachment | None:
    """End a binding: nothing to release in Placement, so it is final and
    released at once."""
    return _change(db, attachment, {'state': attachment.state},
                   state=models.DETACHED, active_accelerator_id=None,
                   released=True, reason=reason)


def request_detach(db: db_engine.Database, attachment: models.Attachment
                   ) -> models.Attachment | None:
    return _change(db, attachment, {'state': attachment.state},
                   state=models.DETACHING)


def check_transition(attachment: models.Attachment, state: str) -> bool:
    """True when ``state`` is new and allowed; False when already there."""
    if attachment.state == state:
        return False
    if attachment.state not in TRANSITIONS[state]:
        raise exceptions.InvalidTransition(
            f'Attachment {attachment.uuid} is {attachment.state}; it cannot '
            f'become {state}.')
    if state == models.ATTACHED and not attachment.claimed:
        raise exceptions.InvalidTransition(
            f'Attachment {attachment.uuid} has no claim in Placement yet.')
    return True


def _active_on_pool(consumer_uuid: str, pool_provider_uuid: str):
    return (sa.select(sa.func.count(models.Attachment.id))
            .join(models.Accelerator,
                  models.Accelerator.id == models.Attachment.accelerator_id)
            .where(models.Attachment.consumer_uuid == consumer_uuid,
                   models.Attachment.active_accelerator_id.is_not(None),
                   models.Accelerator.pool_provider_uuid == pool_provider_uuid))


@dataclasses.dataclass
class PoolClaims:
    """The API's claims of one consumer on one pool, as its records say."""

    #: Active API claims (attaching, attached, detaching): units wanted.
    active: int
    #: The smallest ``base_units`` (the consumer's own units) of the active
    #: and unreleased claims, if any.
    base: int | None
    #: Finished API claims whose release is not confirmed yet.
    unreleased: int

    def wanted(self, base_units: int) -> int:
        """Units the consumer should hold on the pool: its own plus one per
        active claim. ``base_units`` is the caller's record's (which may be
        released already); the smallest base known wins, so a release never
        keeps a unit that is not the consumer's own."""
        base = base_units if self.base is None else min(self.base, base_units)
        return base + self.active


def _claims_on_pool(pool_provider_uuid: str):
    return (sa.select(models.Attachment)
            .join(models.Accelerator,
                  models.Accelerator.id == models.Attachment.accelerator_id)
            .where(models.Attachment.api_claim.is_(True),
                   models.Accelerator.pool_provider_uuid == pool_provider_uuid))


def summarize(records: list[models.Attachment]) -> PoolClaims:
    active = [r for r in records if r.state in models.ACTIVE_STATES]
    unreleased = [r for r in records
                  if r.state in models.FINAL_STATES and not r.released]
    return PoolClaims(
        active=len(active),
        base=min((r.base_units for r in active + unreleased), default=None),
        unreleased=len(unreleased))


def pool_claims(db: db_engine.Database, consumer_uuid: str,
                pool_provider_uuid: str) -> PoolClaims:
    query = _claims_on_pool(pool_provider_uuid).where(
        models.Attachment.consumer_uuid == consumer_uuid,
        sa.or_(models.Attachment.active_accelerator_id.is_not(None),
               models.Attachment.released.is_(False)))
    with db.reader() as session:
        return summarize(list(session.scalars(query)))


def claims_by_consumer(db: db_engine.Database, pool_provider_uuid: str,
                       consumer_uuids: set[str]
                       ) -> dict[str, list[models.Attachment]]:
    """Every API claim record of these consumers on the pool, by consumer."""
    found: dict[str, list[models.Attachment]] = {}
    if not consumer_uuids:
        return found
    query = _claims_on_pool(pool_provider_uuid).where(
        models.Attachment.consumer_uuid.in_(sorted(consumer_uuids)))
    with db.reader() as session:
        for record in session.scalars(query):
            found.setdefault(record.consumer_uuid, []).append(record)
    return found


def open_consumers(db: db_engine.Database, pool_provider_uuid: str
                   ) -> set[str]:
    """Consumers with an API claim on the pool that is active or whose
    release is owed."""
    query = (sa.select(models.Attachment.consumer_uuid)
             .join(models.Accelerator,
                   models.Accelerator.id == models.Attachment.accelerator_id)
             .where(models.Attachment.api_claim.is_(True),
                    models.Attachment.released.is_(False),
                    models.Accelerator.pool_provider_uuid
                    == pool_provider_uuid).distinct())
    with db.reader() as session:
        return set(session.scalars(query))


def claimed_pools_of_host(db: db_engine.Database, host: str
                          ) -> list[tuple[str, str]]:
    """The (pool provider, resource class) pairs of the host's units that
    the API ever claimed on: the pools whose consumers have claim records.

    A sweep acts only on consumers with claim records, so on other pools it
    has nothing to do and need not ask Placement: a fleet's idle reconcile
    passes then cost Placement nothing.
    """
    query = (sa.select(models.Accelerator.pool_provider_uuid,
                       models.Accelerator.resource_class)
             .join(models.Attachment,
                   models.Attachment.accelerator_id == models.Accelerator.id)
             .where(models.Accelerator.host == host,
                    models.Attachment.api_claim.is_(True),
                    models.Accelerator.pool_provider_uuid.is_not(None),
                    models.Accelerator.resource_class.is_not(None))
             .distinct())
    with db.reader() as session:
        return [tuple(row) for row in session.execute(query)]


def pools_of_host(db: db_engine.Database, host: str) -> list[tuple[str, str]]:
    """The (pool provider, resource class) pairs of the host's units."""
    query = (sa.select(models.Accelerator.pool_provider_uuid,
                       models.Accelerator.resource_class)
             .where(models.Accelerator.host == host,
                    models.Accelerator.pool_provider_uuid.is_not(None),
                    models.Accelerator.resource_class.is_not(None))
             .distinct())
    with db.reader() as session:
        return [tuple(row) for row in session.execute(query)]


def mark_released(db: db_engine.Database, attachment_ids: list[int]) -> None:
    """The claims of these finished attachments are gone from Placement.

    Not a change the host's reconciler acts on: no new host revision.
    """
    if not attachment_ids:
        return
    with db.writer() as session:
        session.execute(
            sa.update(models.Attachment)
            .where(models.Attachment.id.in_(attachment_ids),
                   models.Attachment.active_accelerator_id.is_(None))
            .values(released=True))


def count_active(db: db_engine.Database, consumer_uuid: str,
                 pool_provider_uuid: str) -> int:
    """Active attachments (claims and bindings) of a consumer on a pool."""
    with db.reader() as session:
        return session.scalar(_active_on_pool(consumer_uuid,
                                              pool_provider_uuid))


def changes(db: db_engine.Database, host: str, since: int, limit: int
            ) -> tuple[list[models.Attachment], int]:
    """Attachments of ``host`` changed after revision ``since``, and the latest.

    ``since = 0`` is a full resync: only attachments that still hold their
    accelerator. Unclaimed ``attaching`` records are not for the reconciler yet.
    """
    query = (sa.select(models.Attachment)
              .where(models.Attachment.agent_host == host,
                    models.Attachment.host_revision > since,
                    models.Attachment.claimed.is_(True))
             .order_by(models.Attachment.host_revision).limit(limit))
    if since == 0:
        query = query.where(models.Attachment.active_accelerator_id.is_not(None))
    with db.reader() as session:
        # The latest revision first: rows read after it include every change
        # up to it, as a host's changes commit in revision order.
        latest = session.scalar(sa.select(models.HostRevision.revision).where(
            models.HostRevision.host == host)) or 0
        query = query.where(models.Attachment.host_revision <= latest)
        rows = list(session.scalars(query))
    if len(rows) == limit:
        latest = rows[-1].host_revision
    return rows, latest


def cutoff(older_than: float) -> datetime.datetime:
    """The time ``older_than`` seconds ago, as the timestamps are stored."""
    return (datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
            - datetime.timedelta(seconds=older_than))


def unclaimed(db: db_engine.Database, host: str, older_than: float
              ) -> list[models.Attachment]:
    """``attaching`` records without a claim, left for ``older_than`` seconds."""
    with db.reader() as session:
        return list(session.scalars(
            sa.select(models.Attachment)
            .where(models.Attachment.agent_host == host,
                   models.Attachment.state == models.ATTACHING,
                   models.Attachment.claimed.is_(False),
                   models.Attachment.created_at <= cutoff(older_than))))


def _bindings():
    return (sa.select(models.Attachment)
            .join(models.Accelerator,
                  models.Accelerator.id == models.Attachment.accelerator_id)
            .where(models.Attachment.api_claim.is_(False),
                   models.Attachment.active_accelerator_id.is_not(None))
            .order_by(models.Attachment.id))


def bindings_of(db: db_engine.Database, instance_uuid: str,
                host: str | None = None) -> list[models.Attachment]:
    """The instance's active bindings (records without an API claim), on
    the host's units or on every host."""
    query = _bindings().where(models.Attachment.instance_uuid == instance_uuid)
    if host is not None:
        query = query.where(models.Attachment.agent_host == host)
    with db.reader() as session:
        return list(session.scalars(query))


def pool_holders(db: db_engine.Database, pool_provider_uuid: str
                 ) -> tuple[list[models.Attachment], dict[str, int]]:
    """The pool's active bindings, and the active records (claims and
    bindings) of each consumer on it, read at the same moment."""
    counts = (sa.select(models.Attachment.consumer_uuid,
                        sa.func.count(models.Attachment.id))
              .join(models.Accelerator,
                    models.Accelerator.id == models.Attachment.accelerator_id)
              .where(models.Attachment.active_accelerator_id.is_not(None),
                     models.Accelerator.pool_provider_uuid
                     == pool_provider_uuid)
              .group_by(models.Attachment.consumer_uuid))
    with db.reader() as session:
        bound = list(session.scalars(_bindings().where(
            models.Accelerator.pool_provider_uuid == pool_provider_uuid)))
        return bound, {consumer: n for consumer, n in session.execute(counts)}


def vgpus_held(db: db_engine.Database, host: str
               ) -> list[tuple[str, str]]:
    """(parent GPU address, vGPU type) of each vGPU unit of the host an
    active record holds: what the host's GPUs hold, or are about to."""
    query = (sa.select(models.Accelerator.parent_address,
                       models.Accelerator.vgpu_type)
             .join(models.Attachment, models.Attachment.active_accelerator_id
                   == models.Accelerator.id)
             .where(models.Accelerator.host == host,
                    models.Accelerator.vgpu_type.is_not(None)))
    with db.reader() as session:
        return [tuple(row) for row in session.execute(query)]


def free_units(db: db_engine.Database, pool_provider_uuid: str, host: str
               ) -> list[models.Accelerator]:
    """The pool's units on the host that may be given out: present,
    healthy, not disabled, and held by nobody; nor is their PCI function:
    a VF bound through one of its vGPU units has no other to give."""
    held = sa.select(models.Attachment.active_accelerator_id).where(
        models.Attachment.active_accelerator_id.is_not(None))
    taken = sa.select(models.Accelerator.pci_address).where(
        models.Accelerator.host == host, models.Accelerator.id.in_(held),
        models.Accelerator.pci_address.is_not(None))
    query = (sa.select(models.Accelerator)
             .where(models.Accelerator.pool_provider_uuid == pool_provider_uuid,
                    models.Accelerator.host == host,
                    models.Accelerator.state == models.AVAILABLE,
                    models.Accelerator.health == models.HEALTHY,
                    sa.not_(models.Accelerator.disabled),
                    models.Accelerator.pci_address.not_in(taken))
             .order_by(models.Accelerator.id))
    with db.reader() as session:
        return list(session.scalars(query))
