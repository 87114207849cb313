"""The agent's device report: upsert a host's units by (host, PCI address)."""
import uuid as uuid_lib

from oslo_log import log as logging
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from cyborg_placement.db import accelerators
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
            held: set[int]) -> None:
    values = {key: unit.get(key) for key in accelerators.REPORT_COLUMNS}
    values['device_type'] = values['device_type'] or ''
    values.update(_health(unit))
    now = models._now()
    if record is None:
        session.add(models.Accelerator(
            uuid=str(uuid_lib.uuid4()),
            name=accelerators.reported_name(host, unit['pci_address']),
            host=host, pci_address=unit['pci_address'],
            state=models.AVAILABLE, health_since=now, **values))
        return
    values['state'] = models.AVAILABLE
    if record.health != values['health']:
        values['health_since'] = now
        if values['health'] == models.UNHEALTHY and record.id in held:
            _warn_held(record, values['health_reason'])
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


def _apply(db: db_engine.Database, host: str, units: list[dict]) -> None:
    with db.writer() as session:
        existing = {record.pci_address: record for record in session.scalars(
            sa.select(models.Accelerator).where(
                models.Accelerator.host == host))}
        held = set(session.scalars(
            sa.select(models.Attachment.active_accelerator_id).where(
                models.Attachment.active_accelerator_id.in_(
                    [r.id for r in existing.values()]))))
        for unit in units:
            _upsert(session, host, existing.pop(unit['pci_address'], None),
                    unit, held)
        _vanish(session, list(existing.values()), held)


def apply_report(db: db_engine.Database, host: str, units: list[dict]
                 ) -> list[accelerators.AcceleratorView]:
    """Make the host's records match ``units``; uuids of known units stay.

    Two reports of one host racing to insert the same new unit meet the
    (host, pci_address) unique constraint; the loser applies its report again
    over the winner's rows.
    """
    try:
        _apply(db, host, units)
    except sa_exc.IntegrityError:
        _apply(db, host, units)
    return accelerators.list_views(db, limit=len(units) + 1000, host=host)
