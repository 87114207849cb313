"""The agent's device report: upsert a host's units by (host, PCI address).

A host reports all its units every time; what costs the database is only what
changed. A report that changes nothing is answered from one read transaction
(no write lock: on SQLite the write lock is one for every API worker), and a
report that changes some units writes those rows only.
"""
import uuid as uuid_lib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from cyborg_placement.db import accelerators
from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import models


def _values(unit: dict) -> dict:
    """The columns a reported unit sets on its record."""
    values = {key: unit.get(key) for key in accelerators.REPORT_COLUMNS}
    values['device_type'] = values['device_type'] or ''
    values['state'] = models.AVAILABLE
    return values


def _differs(record: models.Accelerator, values: dict) -> bool:
    return any(getattr(record, key) != value for key, value in values.items())


def _upsert(session: orm.Session, host: str, record, unit: dict) -> None:
    values = _values(unit)
    if record is None:
        session.add(models.Accelerator(
            uuid=str(uuid_lib.uuid4()),
            name=accelerators.reported_name(host, unit['pci_address']),
            host=host, pci_address=unit['pci_address'], **values))
        return
    if _differs(record, values):
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


def _existing(session: orm.Session, host: str
              ) -> dict[str, models.Accelerator]:
    return {record.pci_address: record for record in session.scalars(
        sa.select(models.Accelerator).where(models.Accelerator.host == host))}


def _held(session: orm.Session, records: list[models.Accelerator]
          ) -> set[int]:
    """Which of ``records`` an active attachment holds."""
    if not records:
        return set()
    return set(session.scalars(
        sa.select(models.Attachment.active_accelerator_id).where(
            models.Attachment.active_accelerator_id.in_(
                [r.id for r in records]))))


def _unchanged(session: orm.Session, host: str, units: list[dict]) -> bool:
    """Whether the report would change no record of the host."""
    existing = _existing(session, host)
    for unit in units:
        record = existing.pop(unit['pci_address'], None)
        if record is None or _differs(record, _values(unit)):
            return False
    gone = list(existing.values())
    if any(record.state != models.MISSING for record in gone):
        return False
    return len(_held(session, gone)) == len(gone)


def _apply(db: db_engine.Database, host: str, units: list[dict]) -> None:
    with db.writer() as session:
        existing = _existing(session, host)
        held = _held(session, list(existing.values()))
        for unit in units:
            _upsert(session, host, existing.pop(unit['pci_address'], None),
                    unit)
        _vanish(session, list(existing.values()), held)


def apply_report(db: db_engine.Database, host: str, units: list[dict]
                 ) -> list[accelerators.AcceleratorView]:
    """Make the host's records match ``units``; uuids of known units stay.

    Two reports of one host racing to insert the same new unit meet the
    (host, pci_address) unique constraint; the loser applies its report again
    over the winner's rows.
    """
    with db.reader() as session:
        unchanged = _unchanged(session, host, units)
    if not unchanged:
        try:
            _apply(db, host, units)
        except sa_exc.IntegrityError:
            _apply(db, host, units)
    return accelerators.list_views(db, limit=len(units) + 1000, host=host)
