"""Data access for device profiles: create, read, delete."""
import uuid as uuid_lib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import exceptions
from cyborg_placement.db import models


def create(db: db_engine.Database, name: str, groups: list[dict],
           description: str | None = None, uuid: str | None = None
           ) -> models.DeviceProfile:
    """Insert a profile; the unique indexes refuse a taken name or uuid."""
    record = models.DeviceProfile(uuid=uuid or str(uuid_lib.uuid4()),
                                  name=name, groups=groups,
                                  description=description)
    try:
        with db.writer() as session:
            session.add(record)
    except sa_exc.IntegrityError:
        raise exceptions.DeviceProfileNameTaken(
            f'A device profile named {name!r} (or with uuid {record.uuid}) '
            'exists already.') from None
    return record


def list_all(db: db_engine.Database, names: list[str] | None = None
             ) -> list[models.DeviceProfile]:
    """Every profile, or those of these names, in creation order."""
    query = sa.select(models.DeviceProfile).order_by(models.DeviceProfile.id)
    if names is not None:
        query = query.where(models.DeviceProfile.name.in_(names))
    with db.reader() as session:
        return list(session.scalars(query))


def get(db: db_engine.Database, *, uuid: str | None = None,
        name: str | None = None) -> models.DeviceProfile:
    """The profile with this uuid, or with this name."""
    column = (models.DeviceProfile.uuid if uuid is not None
              else models.DeviceProfile.name)
    wanted = uuid if uuid is not None else name
    with db.reader() as session:
        found = session.scalar(sa.select(models.DeviceProfile).where(
            column == wanted))
    if found is None:
        raise exceptions.DeviceProfileNotFound(
            f'No device profile {wanted!r}.')
    return found


def delete(db: db_engine.Database, *uuids: str) -> None:
    """Delete these profiles in one transaction, all or none: none may be
    in use by an accelerator request (their foreign key refuses) and each
    must exist."""
    try:
        with db.writer() as session:
            deleted = session.execute(sa.delete(models.DeviceProfile).where(
                models.DeviceProfile.uuid.in_(uuids))).rowcount
            if deleted != len(set(uuids)):
                raise exceptions.DeviceProfileNotFound(
                    f'No device profile {", ".join(uuids)}.')
    except sa_exc.IntegrityError:
        raise exceptions.DeviceProfileInUse(
            f'Device profile {", ".join(uuids)} is in use by accelerator '
            'requests; delete them first.') from None
