"""Data access for accelerator records: create, read, specs and device reports."""
import collections
import dataclasses
import json
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
_SPEC_ITEMS = tuple(_SPEC_COLUMNS.items())
#: The fields that make a unit a vGPU unit (all None for a whole device).
VGPU_FIELDS = ('vgpu_interface', 'vgpu_type', 'vgpu_profile',
               'parent_address', 'mdev_uuid')
#: Device-report fields that are columns of their own.
REPORT_COLUMNS = ('vendor_id', 'product_id', 'device_type',
                  'pool_provider_uuid', 'resource_class', 'numa_node',
                  'socket', 'driver', *VGPU_FIELDS)
#: acc_specs keys whose columns the device report owns on a reported unit.
REPORTED_SPECS = ('device_type', 'vendor_id', 'product_id')


_ACCELERATORS = models.Accelerator.__table__
_ATTACHMENTS = models.Attachment.__table__

#: A listed accelerator: the columns of its row, named as the model's
#: attributes. Lists read plain rows: building 1,000 ORM objects and reading
#: their attributes cost more than Placement takes to answer 1,000 providers
#: (docs/benchmarks-api.md); a tuple per row costs a tenth of it.
AcceleratorRow = collections.namedtuple('AcceleratorRow',
                                        _ACCELERATORS.c.keys())
#: Positions of the JSON columns, which lists read as text and decode once
#: per distinct value: a host's units mostly share theirs.
_JSON_AT = tuple(n for n, column in enumerate(_ACCELERATORS.c)
                 if isinstance(column.type, sa.JSON))
_LISTED = tuple(sa.cast(column, sa.Text).label(column.name)
                if n in _JSON_AT else column
                for n, column in enumerate(_ACCELERATORS.c))


def _listed_rows(rows) -> list[AcceleratorRow]:
    """Rows of ``_LISTED`` as AcceleratorRows. Equal JSON texts decode to
    one shared value: the rows are for reading, not for changing."""
    decoded: dict[str | None, object] = {None: None}
    listed = []
    for row in rows:
        values = list(row)
        for n in _JSON_AT:
            text = values[n]
            if text not in decoded:
                decoded[text] = json.loads(text)
            values[n] = decoded[text]
        listed.append(AcceleratorRow._make(values))
    return listed


class AttachmentRow(collections.namedtuple(
        'AttachmentRow', [*_ATTACHMENTS.c.keys(), 'accelerator'])):
    """The attachment an accelerator shows: the columns of its row, and the
    accelerator, as the model's relationship gives it."""

    __slots__ = ()
    holds_accelerator = models.Attachment.holds_accelerator


@dataclasses.dataclass(slots=True)
class AcceleratorView:
    """An accelerator with the attachment shown beside it (if any)."""

    accelerator: models.Accelerator | AcceleratorRow
    attachment: models.Attachment | AttachmentRow | None


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


def specs_of(accelerator: models.Accelerator | AcceleratorRow) -> dict:
    extra = accelerator.extra_specs
    specs = dict(extra) if extra else {}
    for key, column in _SPEC_ITEMS:
        value = getattr(accelerator, column)
        if value is not None and value != '':
            specs[key] = value
    return specs


def _shown_attachments(session: orm.Session,
                       accelerators: list[models.Accelerator | AcceleratorRow],
                       ids: sa.Select | None = None
                       ) -> dict[int, AttachmentRow]:
    """The attachment each accelerator shows: its active one, else its last.

    The last one is kept so users see why an attach failed. ``ids``, a query
    of the accelerators' ids, lets the database find them itself: binding
    a parameter per id costs more than the rest of a page of 1,000.
    """
    if not accelerators:
        return {}
    by_id = {accelerator.id: accelerator for accelerator in accelerators}
    columns = _ATTACHMENTS.c
    latest = (sa.select(sa.func.max(columns.id))
              .where(columns.accelerator_id.in_(
                  list(by_id) if ids is None else ids))
              .group_by(columns.accelerator_id))
    rows = session.execute(sa.select(_ATTACHMENTS).where(
        columns.id.in_(latest))).all()
    return {row.accelerator_id: AttachmentRow(
        *row, accelerator=by_id[row.accelerator_id]) for row in rows}


def _views(session, accelerators, ids: sa.Select | None = None
           ) -> list[AcceleratorView]:
    shown = _shown_attachments(session, accelerators, ids)
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
    columns = _ACCELERATORS.c
    query = sa.select(columns.id).order_by(columns.id)
    for column, value in ((columns.host, host),
                          (columns.device_type, device_type),
                          (columns.state, state), (columns.health, health)):
        if value is not None:
            query = query.where(column == value)
    if instance_uuid is not None:
        query = query.join(
            models.Attachment,
            models.Attachment.active_accelerator_id == columns.id
        ).where(models.Attachment.instance_uuid == instance_uuid)
    with db.reader() as session:
        if marker is not None:
            query = query.where(columns.id > _get(session, marker).id)
        page = query.limit(limit)
        rows = session.execute(page.with_only_columns(*_LISTED)).all()
        # A derived table: MySQL takes no LIMIT in an IN subquery itself.
        ids = sa.select(page.subquery().c.id)
        return _views(session, _listed_rows(rows), ids)


#: ``<host>:<PCI address>``, and ``<host>:<PCI address>:<vGPU type>`` for a
#: vGPU unit: the names of units agents report. Reserved, so that a record
#: an admin creates can never block a host's device report.
_REPORTED_NAME = re.compile(
    r':[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7](:[^:]+)?$')


def reported_name(host: str, pci_address: str,
                  vgpu_type: str | None = None) -> str:
    """The name of a reported unit; a VF's vGPU units differ by type."""
    name = f'{host}:{pci_address}'
    return name if vgpu_type is None else f'{name}:{vgpu_type}'


def has_reported_name(record: models.Accelerator | AcceleratorRow) -> bool:
    """Whether the unit still has the name its report gave it (which says
    its host and address: views hide it with them)."""
    return bool(record.host) and record.name == reported_name(
        record.host, record.pci_address, record.vgpu_type)


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
    same ETag cannot both succeed. On a unit an agent reported, the device
    type and ids are the report's (its pool and traits follow them): they
    are kept, and a different value is refused rather than shown until the
    next report puts it back.
    """
    columns = {column: None for column in _SPEC_COLUMNS.values()}
    columns.update(specs_to_columns(specs))
    with db.writer() as session:
        record = _get(session, uuid)
        if record.host is not None:
            columns.update(_reported_specs(record, specs))
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


def _reported_specs(record: models.Accelerator, specs: dict) -> dict:
    """The report's columns of a reported unit, or ReportedSpec when
    ``specs`` gives one of them another value."""
    kept = {key: getattr(record, _SPEC_COLUMNS[key]) for key in REPORTED_SPECS}
    changed = sorted(key for key in REPORTED_SPECS
                     if key in specs and specs[key] != kept[key])
    if changed:
        raise exceptions.ReportedSpec(
            f'Accelerator {record.uuid} was reported by the agent of host '
            f'{record.host}: its {", ".join(changed)} come from the device '
            'report and cannot be changed (leave them out, or give the '
            'reported values).')
    return {_SPEC_COLUMNS[key]: value for key, value in kept.items()}


def host_of_pool(db: db_engine.Database, pool_provider_uuid: str
                 ) -> str | None:
    """The host whose units are in this pool (a pool is one host's); None
    for a provider that is no pool of ours."""
    with db.reader() as session:
        return session.scalar(
            sa.select(models.Accelerator.host)
            .where(models.Accelerator.pool_provider_uuid == pool_provider_uuid,
                   models.Accelerator.host.is_not(None)).limit(1))


def vgpu_interface_of_pool(db: db_engine.Database, pool_provider_uuid: str
                           ) -> str | None:
    """How the pool's vGPUs are made ('vfio', 'mdev'); None for a pool of
    whole devices. A pool holds one product's one profile: one kind."""
    with db.reader() as session:
        return session.scalar(
            sa.select(models.Accelerator.vgpu_interface)
            .where(models.Accelerator.pool_provider_uuid == pool_provider_uuid,
                   models.Accelerator.vgpu_interface.is_not(None)).limit(1))


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
    free, so it is not reserved in Placement). By PCI address: a VF is
    listed when any of its vGPU units is."""

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
    return HostUnits(
        disabled=list(dict.fromkeys(a for a, off, _ in rows if off)),
        held=list(dict.fromkeys(a for a, _, taken in rows if taken)))
