"""The agent's device report: upsert a host's units by (host, PCI address,
vGPU type); a whole device has no type.

A host reports all its units every time; what costs the database is only what
changed. The report is first applied on a read transaction and thrown away:
if it changes nothing (the steady state) that is all, without the write lock
(on SQLite one lock for every API worker); otherwise it is applied again in a
write transaction, which writes the changed rows only.
"""
import uuid as uuid_lib

from oslo_log import log as logging
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from cyborg_placement.db import accelerators
from cyborg_placement.db import changes
from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import models

LOG = logging.getLogger(__name__)


def _health(unit: dict) -> dict:
    """A unit's health columns; agents older than health checks report
    none, and their units are healthy."""
    health = unit.get('health') or models.HEALTHY
    return {'health': health,
            'health_reason': (unit.get('health_reason')
                              if health == models.UNHEALTHY else None)}


def _warn_held(record: models.Accelerator, reason: str | None) -> None:
    LOG.warning('Accelerator %s (%s %s) turned unhealthy while held: %s. '
                'Its holder keeps it; migrate the instance or detach it.',
                record.uuid, record.host, record.pci_address, reason)


def _upsert(session: orm.Session, host: str, record, unit: dict,
            held: set[int], warn: bool) -> changes.Change | None:
    """Stage one unit; what its observers will be told, if anything."""
    values = {key: unit.get(key) for key in accelerators.REPORT_COLUMNS}
    values['device_type'] = values['device_type'] or ''
    values.update(_health(unit))
    now = models._now()
    if record is None:
        record = models.Accelerator(
            uuid=str(uuid_lib.uuid4()),
            name=accelerators.reported_name(host, unit['pci_address'],
                                            unit.get('vgpu_type')),
            host=host, pci_address=unit['pci_address'],
            state=models.AVAILABLE, health_since=now, **values)
        session.add(record)
        return changes.Change(changes.CREATE, record)
    values['state'] = models.AVAILABLE
    change = None
    if record.health != values['health']:
        change = changes.Change(changes.HEALTH, record)
        values['health_since'] = now
        if (warn and values['health'] == models.UNHEALTHY
                and record.id in held):
            _warn_held(record, values['health_reason'])
    if any(getattr(record, key) != value for key, value in values.items()):
        for key, value in values.items():
            setattr(record, key, value)
        record.revision += 1
    return change


def _vanish(session: orm.Session, records: list, held: set[int]
            ) -> list[changes.Change]:
    """Units gone from the host: kept as ``missing`` while held, else deleted."""
    gone = []
    for record in records:
        if record.id not in held:
            session.delete(record)
        elif record.state != models.MISSING:
            record.state = models.MISSING
            record.revision += 1
        else:
            continue
        gone.append(changes.Change(changes.DELETE, record))
    return gone


def _apply(session: orm.Session, host: str, units: list[dict],
           warn: bool = True) -> list[changes.Change]:
    """Stage the report's changes on ``session``; its caller flushes them,
    or throws them away (so no query may flush them half way, and the
    thrown-away pass, ``warn`` false, logs nothing)."""
    with session.no_autoflush:
        records = session.scalars(sa.select(models.Accelerator).where(
            models.Accelerator.host == host))
        existing = {(r.pci_address, r.vgpu_type): r for r in records}
        held = set(session.scalars(
            sa.select(models.Attachment.active_accelerator_id).where(
                models.Attachment.active_accelerator_id.in_(
                    [r.id for r in existing.values()]))))
        staged = [_upsert(session, host, existing.pop(
            (unit['pci_address'], unit.get('vgpu_type')), None), unit,
            held, warn) for unit in units]
        gone = _vanish(session, list(existing.values()), held)
    return [change for change in staged if change is not None] + gone


def _changes_anything(db: db_engine.Database, host: str, units: list[dict],
                      digest: str | None) -> bool:
    with db.reader() as session:
        _apply(session, host, units, warn=False)
        changed = bool(session.new or session.deleted) or any(
            session.is_modified(record) for record in session.dirty)
        session.expunge_all()  # nothing is flushed when the reader ends
        return changed or (digest is not None
                           and _digest(session, host) != digest)


def _digest(session: orm.Session, host: str) -> str | None:
    return session.scalar(sa.select(models.HostReport.digest).where(
        models.HostReport.host == host))


def _write(db: db_engine.Database, host: str, units: list[dict],
           digest: str | None) -> None:
    with db.writer() as session:
        done = _apply(session, host, units)
        if digest is not None:
            session.merge(models.HostReport(host=host, digest=digest))
    for change in done:
        db.publish(change)


def apply_report(db: db_engine.Database, host: str, units: list[dict],
                 digest: str | None = None
                 ) -> list[accelerators.AcceleratorView]:
    """Make the host's records match ``units``, and keep the report's
    ``digest`` as the host's last (None: the last stays as it is); uuids
    of known units stay.

    Two reports of one host racing to insert the same new unit (or the
    host's first digest) meet a unique constraint; the loser applies its
    report again over the winner's rows.
    """
    if _changes_anything(db, host, units, digest):
        try:
            _write(db, host, units, digest)
        except sa_exc.IntegrityError:
            _write(db, host, units, digest)
    return accelerators.list_views(db, limit=len(units) + 1000, host=host)


def last_digest(db: db_engine.Database, host: str) -> str | None:
    """The digest of the host's last accepted report; None for none."""
    with db.reader() as session:
        return _digest(session, host)
