"""Data access for accelerator records: create, read, specs and device reports."""
import dataclasses
import re
import uuid as uuid_lib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from cyborg_placement.db import changes
from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import exceptions
from cyborg_placement.db import models

#: acc_specs keys that have columns of their own (the seed spec's table).
_SPEC_COLUMNS = {'remote': 'remotable', 'device_type': 'device_type',
                 'acc_type': 'acc_type', 'acc_capability': 'acc_capability',
                 'vendor_id': 'vendor_id', 'product_id': 'product_id'}
#: Device-report fields that are columns of their own.
REPORT_COLUMNS = ('vendor_id', 'product_id', 'device_type',
                  'pool_provider_uuid', 'resource_class', 'numa_node',
                  'driver')


@dataclasses.dataclass
class AcceleratorView:
    """An accelerator with the attachment shown beside it (if any)."""

    accelerator: models.Accelerator
    attachment: models.Attachment | None


def specs_to_columns(specs: dict) -> dict:
    columns = {'extra_specs': {}}
    for key, value in specs.items():
        if key in _SPEC_COLUMNS:
            columns[_SPEC_COLUMNS[key]] = value
        else:
            columns['extra_specs'][key] = value
    columns.setdefault('device_type', '')
    columns.setdefault('remotable', 0)
    return columns


def specs_of(accelerator: models.Accelerator) -> dict:
    specs = dict(accelerator.extra_specs or {})
    for key, column in _SPEC_COLUMNS.items():
        value = getattr(accelerator, column)
        if value not in (None, ''):
            specs[key] = value
    return specs


def _shown_attachments(session: orm.Session, accelerator_ids: list[int]
                       ) -> dict[int, models.Attachment]:
    """The attachment each accelerator shows: its active one, else its last.

    The last one is kept so users see why an attach failed.
    """
    if not accelerator_ids:
        return {}
    latest = (sa.select(sa.func.max(models.Attachment.id))
              .where(models.Attachment.accelerator_id.in_(accelerator_ids))
              .group_by(models.Attachment.accelerator_id))
    rows = session.scalars(sa.select(models.Attachment).where(
        models.Attachment.id.in_(latest)))
    return {row.accelerator_id: row for row in rows}


def _views(session, accelerators) -> list[AcceleratorView]:
    shown = _shown_attachments(session, [a.id for a in accelerators])
    return [AcceleratorView(a, shown.get(a.id)) for a in accelerators]


def _get(session: orm.Session, uuid: str) -> models.Accelerator:
    found = session.scalar(sa.select(models.Accelerator).where(
        models.Accelerator.uuid == uuid))
    if found is None:
        raise exceptions.AcceleratorNotFound(f'No accelerator {uuid}.')
    return found


def get(db: db_engine.Database, uuid: str) -> AcceleratorView:
    with db.reader() as session:
        return _views(session, [_get(session, uuid)])[0]


def get_record(db: db_engine.Database, uuid: str) -> models.Accelerator:
    with db.reader() as session:
        return _get(session, uuid)


def list_views(db: db_engine.Database, *, limit: int,
               marker: str | None = None, host: str | None = None,
               device_type: str | None = None, state: str | None = None,
               instance_uuid: str | None = None,
               health: str | None = None) -> list[AcceleratorView]:
    """One page of accelerators in creation order, after ``marker``."""
    query = sa.select(models.Accelerator).order_by(models.Accelerator.id)
    for column, value in ((models.Accelerator.host, host),
                          (models.Accelerator.device_type, device_type),
                          (models.Accelerator.state, state),
                          (models.Accelerator.health, health)):
        if value is not None:
            query = query.where(column == value)
    if instance_uuid is not None:
        query = query.join(
            models.Attachment,
            models.Attachment.active_accelerator_id == models.Accelerator.id
        ).where(models.Attachment.instance_uuid == instance_uuid)
    with db.reader() as session:
        if marker is not None:
            query = query.where(models.Accelerator.id > _get(session, marker).id)
        return _views(session, list(session.scalars(query.limit(limit))))


#: ``<host>:<PCI address>``: the names of units agents report. Reserved, so
#: that a record an admin creates can never block a host's device report.
_REPORTED_NAME = re.compile(
    r':[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$')


def reported_name(host: str, pci_address: str) -> str:
    return f'{host}:{pci_address}'


def create(db: db_engine.Database, name: str, uuid: str | None = None,
           specs: dict | None = None) -> models.Accelerator:
    if _REPORTED_NAME.search(name):
        raise exceptions.ReservedName(
            f'Names ending in ":<PCI address>" ({name!r}) are reserved for '
            'the accelerators agents report.')
    record = models.Accelerator(uuid=uuid or str(uuid_lib.uuid4()), name=name,
                                **specs_to_columns(specs or {}))
    try:
        with db.writer() as session:
            session.add(record)
    except sa_exc.IntegrityError:
        with db.reader() as session:
            if session.scalar(sa.select(models.Accelerator.id).where(
                    models.Accelerator.uuid == record.uuid)):
                raise exceptions.DuplicateUuid(
                    f'An accelerator with uuid {record.uuid} exists.') from None
        raise exceptions.DuplicateName(
            f'An accelerator named {name!r} exists.') from None
    return record


def update_specs(db: db_engine.Database, uuid: str, specs: dict,
                 if_revision: int | None = None) -> models.Accelerator:
    """Replace ``acc_specs``; with ``if_revision``, only if it is still current.

    The revision check is part of the UPDATE itself, so two writers holding the
    same ETag cannot both succeed.
    """
    columns = {column: None for column in _SPEC_COLUMNS.values()}
    columns.update(specs_to_columns(specs))
    with db.writer() as session:
        record = _get(session, uuid)
        query = (sa.update(models.Accelerator)
                 .where(models.Accelerator.id == record.id)
                 .values(revision=models.Accelerator.revision + 1, **columns))
        if if_revision is not None:
            query = query.where(models.Accelerator.revision == if_revision)
        if session.execute(query).rowcount != 1:
            raise exceptions.StaleRevision(
                f'Accelerator {uuid} changed since revision {if_revision} '
                f'(now {record.revision}); read it again.')
        session.expire(record)
        session.refresh(record)
        return record


def host_of_pool(db: db_engine.Database, pool_provider_uuid: str
                 ) -> str | None:
    """The host whose units are in this pool (a pool is one host's); None
    for a provider that is no pool of ours."""
    with db.reader() as session:
        return session.scalar(
            sa.select(models.Accelerator.host)
            .where(models.Accelerator.pool_provider_uuid == pool_provider_uuid,
                   models.Accelerator.host.is_not(None)).limit(1))


def list_reported(db: db_engine.Database, *, host: str | None = None,
                  device_type: str | None = None,
                  vendor_id: str | None = None) -> list[models.Accelerator]:
    """The units agents reported (records with a host), oldest first."""
    query = (sa.select(models.Accelerator)
             .where(models.Accelerator.host.is_not(None))
             .order_by(models.Accelerator.id))
    for column, value in ((models.Accelerator.host, host),
                          (models.Accelerator.device_type, device_type),
                          (models.Accelerator.vendor_id, vendor_id)):
        if value is not None:
            query = query.where(column == value)
    with db.reader() as session:
        return list(session.scalars(query))


def set_disabled(db: db_engine.Database, uuid: str, disabled: bool,
                 reason: str | None = None) -> models.Accelerator:
    """Take a unit out of service, or put it back.

    Disabling again replaces the reason and keeps the time it was first
    disabled; enabling forgets both.
    """
    with db.writer() as session:
        record = _get(session, uuid)
        reason = reason if disabled else None
        switched = record.disabled != disabled
        if (record.disabled, record.disabled_reason) != (disabled, reason):
            record.disabled_at = ((record.disabled_at or models._now())
                                  if disabled else None)
            record.disabled, record.disabled_reason = disabled, reason
            record.revision += 1
        session.flush()
        session.refresh(record)
    if switched:
        db.publish(changes.Change(
            changes.DISABLE if disabled else changes.ENABLE, record))
    return record


@dataclasses.dataclass
class HostUnits:
    """What a host's agent needs to know of its units from the API: which
    an operator disabled, and which an attachment holds (a held unit is not
    free, so it is not reserved in Placement)."""

    disabled: list[str]
    held: list[str]


def host_units(db: db_engine.Database, host: str) -> HostUnits:
    held = sa.select(models.Attachment.active_accelerator_id).where(
        models.Attachment.active_accelerator_id.is_not(None))
    query = (sa.select(models.Accelerator.pci_address,
                       models.Accelerator.disabled,
                       models.Accelerator.id.in_(held))
             .where(models.Accelerator.host == host,
                    models.Accelerator.pci_address.is_not(None),
                    sa.or_(models.Accelerator.disabled,
                           models.Accelerator.id.in_(held)))
             .order_by(models.Accelerator.pci_address))
    with db.reader() as session:
        rows = session.execute(query).all()
    return HostUnits(disabled=[address for address, off, _ in rows if off],
                     held=[address for address, _, taken in rows if taken])
