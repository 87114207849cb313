"""The agent's device report: upsert a host's units by (host, PCI address).

A host reports all its units every time; what costs the database is only what
changed. The report is first applied on a read transaction and thrown away:
if it changes nothing (the steady state) that is all, without the write lock
(on SQLite one lock for every API worker); otherwise it is applied again in a
write transaction, which writes the changed rows only.
"""
import uuid as uuid_lib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from cyborg_placement.db import accelerators
from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import models


def _upsert(session: orm.Session, host: str, record, unit: dict) -> None:
    values = {key: unit.get(key) for key in accelerators.REPORT_COLUMNS}
    values['device_type'] = values['device_type'] or ''
    if record is None:
        session.add(models.Accelerator(
            uuid=str(uuid_lib.uuid4()),
            name=accelerators.reported_name(host, unit['pci_address']),
            host=host, pci_address=unit['pci_address'],
            state=models.AVAILABLE, **values))
        return
    values['state'] = models.AVAILABLE
    if any(getattr(record, key) != value for key, value in values.items()):
        for key, value in values.items():
            setattr(record, key, value)
        record.revision += 1


def _vanish(session: orm.Session, records: list, held: set[int]) -> None:
    """Units gone from the host: kept as ``missing`` while held, else deleted."""
    for record in records:
        if record.id not in held:
            session.delete(record)
        elif record.state != models.MISSING:
            record.state = models.MISSING
            record.revision += 1


def _apply(session: orm.Session, host: str, units: list[dict]) -> None:
    """Stage the report's changes on ``session``; its caller flushes them,
    or throws them away (so no query may flush them half way)."""
    with session.no_autoflush:
        existing = {record.pci_address: record for record in session.scalars(
            sa.select(models.Accelerator).where(
                models.Accelerator.host == host))}
        held = set(session.scalars(
            sa.select(models.Attachment.active_accelerator_id).where(
                models.Attachment.active_accelerator_id.in_(
                    [r.id for r in existing.values()]))))
        for unit in units:
            _upsert(session, host, existing.pop(unit['pci_address'], None),
                    unit)
        _vanish(session, list(existing.values()), held)


def _changes_anything(db: db_engine.Database, host: str, units: list[dict]
                      ) -> bool:
    with db.reader() as session:
        _apply(session, host, units)
        changed = bool(session.new or session.deleted) or any(
            session.is_modified(record) for record in session.dirty)
        session.expunge_all()  # nothing is flushed when the reader ends
    return changed


def _write(db: db_engine.Database, host: str, units: list[dict]) -> None:
    with db.writer() as session:
        _apply(session, host, units)


def apply_report(db: db_engine.Database, host: str, units: list[dict]
                 ) -> list[accelerators.AcceleratorView]:
    """Make the host's records match ``units``; uuids of known units stay.

    Two reports of one host racing to insert the same new unit meet the
    (host, pci_address) unique constraint; the loser applies its report again
    over the winner's rows.
    """
    if _changes_anything(db, host, units):
        try:
            _write(db, host, units)
        except sa_exc.IntegrityError:
            _write(db, host, units)
    return accelerators.list_views(db, limit=len(units) + 1000, host=host)
