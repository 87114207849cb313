"""``/accelerators/{uuid}/disabled``: an operator takes a unit out of
service, or puts it back.

A disabled unit is given to no new holder (attach, Nova's bindings) and
its agent reserves it in Placement, as it does an unhealthy one; a holder
keeps it. The flag lives in the database, so it outlives restarts of the
API and of the agent, which reads it from its host's feed.
"""
from cyborg_placement.api import errors
from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api.policies import disabled as policies
from cyborg_placement.api.schemas import disabled as schemas
from cyborg_placement.db import accelerators


def update_disabled(uuid: str):
    util.context().can(policies.UPDATE)
    db = util.app_state().db
    uuid = util.path_uuid(uuid)
    data = util.json_body(schemas.UPDATE)
    if not data['disabled'] and data.get('reason') is not None:
        raise errors.BadRequest(
            'A reason goes with disabling ("disabled": true); enabling '
            'forgets the reason.')
    accelerators.set_disabled(db, uuid, data['disabled'], data.get('reason'))
    view = accelerators.get(db, uuid)
    return util.json_response(views.visible(util.viewer(), view),
                              headers={'ETag': views.etag(view.accelerator)})
