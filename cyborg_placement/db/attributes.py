"""Data access for the attributes an admin gives units."""
import uuid as uuid_lib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import exceptions
from cyborg_placement.db import models


def create(db: db_engine.Database, unit: models.Accelerator, key: str,
           value: str) -> models.Attribute:
    """Insert an attribute; the unique index refuses a key the unit has."""
    record = models.Attribute(uuid=str(uuid_lib.uuid4()),
                              accelerator_id=unit.id, key=key, value=value)
    try:
        with db.writer() as session:
            session.add(record)
    except sa_exc.IntegrityError:
        raise exceptions.AttributeKeyTaken(
            f'Deployable {unit.uuid} has an attribute {key!r} already.'
        ) from None
    return get(db, record.uuid)


def list_all(db: db_engine.Database, *, accelerator_ids=None,
             key: str | None = None) -> list[models.Attribute]:
    """Attributes in creation order, of these units (all when None)."""
    query = sa.select(models.Attribute).order_by(models.Attribute.id)
    if accelerator_ids is not None:
        query = query.where(
            models.Attribute.accelerator_id.in_(accelerator_ids))
    if key is not None:
        query = query.where(models.Attribute.key == key)
    with db.reader() as session:
        return list(session.scalars(query))


def find(db: db_engine.Database, uuid: str) -> models.Attribute | None:
    with db.reader() as session:
        return session.scalar(sa.select(models.Attribute).where(
            models.Attribute.uuid == uuid))


def get(db: db_engine.Database, uuid: str) -> models.Attribute:
    found = find(db, uuid)
    if found is None:
        raise exceptions.AttributeNotFound(f'No attribute {uuid}.')
    return found


def delete(db: db_engine.Database, uuid: str) -> None:
    with db.writer() as session:
        deleted = session.execute(sa.delete(models.Attribute).where(
            models.Attribute.uuid == uuid)).rowcount
    if not deleted:
        raise exceptions.AttributeNotFound(f'No attribute {uuid}.')


def pool_values(db: db_engine.Database, pool_provider_uuid: str,
                keys_prefix: str, excluding: str) -> set[str]:
    """The values of the attributes but ``excluding`` whose key starts
    with ``keys_prefix`` on the units of one pool (the traits other
    attributes still ask for)."""
    query = (sa.select(models.Attribute.value)
             .join(models.Accelerator)
             .where(models.Accelerator.pool_provider_uuid
                    == pool_provider_uuid)
             .where(models.Attribute.key.startswith(keys_prefix,
                                                    autoescape=True))
             .where(models.Attribute.uuid != excluding))
    with db.reader() as session:
        return set(session.scalars(query))
