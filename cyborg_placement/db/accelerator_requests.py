"""Data access for accelerator requests (ARQs): create, read, bind, delete.

Binding an ARQ points it at a binding (an attachment without API claim,
:func:`attachments.begin_binding`); the attachment, not the ARQ, holds the
unit. Each write is one short transaction.
"""
import uuid as uuid_lib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import exceptions
from cyborg_placement.db import models

_COLUMNS = ('hostname', 'device_rp_uuid', 'instance_uuid')


def create(db: db_engine.Database, profile: models.DeviceProfile,
           units_per_group: list[int], project_id: str | None,
           user_id: str | None) -> list[models.AcceleratorRequest]:
    """One ARQ per unit each group of ``profile`` asks for."""
    made = [models.AcceleratorRequest(
        uuid=str(uuid_lib.uuid4()), device_profile_id=profile.id,
        device_profile_group_id=group, project_id=project_id,
        user_id=user_id, state=models.ARQ_INITIAL)
        for group, units in enumerate(units_per_group) for _ in range(units)]
    with db.writer() as session:
        session.add_all(made)
    for arq in made:
        arq.device_profile = profile
        arq.attachment = None
    return made


def list_all(db: db_engine.Database, *, project_id: str | None = None,
             instance_uuid: str | None = None,
             uuids: list[str] | None = None
             ) -> list[models.AcceleratorRequest]:
    """ARQs, oldest first; each filter given narrows the list."""
    query = sa.select(models.AcceleratorRequest).order_by(
        models.AcceleratorRequest.id)
    if project_id is not None:
        query = query.where(models.AcceleratorRequest.project_id == project_id)
    if instance_uuid is not None:
        query = query.where(
            models.AcceleratorRequest.instance_uuid == instance_uuid)
    if uuids is not None:
        query = query.where(models.AcceleratorRequest.uuid.in_(uuids))
    with db.reader() as session:
        return list(session.scalars(query).unique())


def _refused(arq: models.AcceleratorRequest):
    return exceptions.AcceleratorRequestChanged(
        f'Accelerator request {arq.uuid} was bound, unbound or deleted '
        'meanwhile; nothing was changed.')


def bind(db: db_engine.Database,
         bound: list[tuple[models.AcceleratorRequest, models.Attachment,
                           dict]]) -> None:
    """Mark each ARQ bound to its attachment, with ``hostname``,
    ``device_rp_uuid`` and ``instance_uuid``: all of them, or (when one of
    them is no longer ``Initial``, or its attachment is another ARQ's)
    none."""
    try:
        with db.writer() as session:
            for arq, attachment, values in bound:
                changed = session.execute(
                    sa.update(models.AcceleratorRequest)
                    .where(models.AcceleratorRequest.id == arq.id,
                           models.AcceleratorRequest.state
                           == models.ARQ_INITIAL)
                    .values(state=models.ARQ_BOUND,
                            attachment_id=attachment.id,
                            updated_at=models._now(),
                            **{key: values[key] for key in _COLUMNS}))
                if changed.rowcount != 1:
                    raise _refused(arq)
    except sa_exc.IntegrityError:
        raise _refused(bound[0][0]) from None


def unbind(db: db_engine.Database,
           arqs: list[models.AcceleratorRequest]) -> None:
    """Back to ``Initial``, without host, pool, instance or binding."""
    with db.writer() as session:
        session.execute(
            sa.update(models.AcceleratorRequest)
            .where(models.AcceleratorRequest.id.in_([a.id for a in arqs]))
            .values(state=models.ARQ_INITIAL, attachment_id=None,
                    updated_at=models._now(),
                    **{key: None for key in _COLUMNS}))


def delete(db: db_engine.Database,
           arqs: list[models.AcceleratorRequest]) -> None:
    with db.writer() as session:
        session.execute(sa.delete(models.AcceleratorRequest).where(
            models.AcceleratorRequest.id.in_([a.id for a in arqs])))


def in_use(db: db_engine.Database, attachment_ids: list[int]) -> set[int]:
    """Which of these attachments an ARQ is bound to."""
    if not attachment_ids:
        return set()
    with db.reader() as session:
        return set(session.scalars(
            sa.select(models.AcceleratorRequest.attachment_id).where(
                models.AcceleratorRequest.attachment_id.in_(attachment_ids))))
