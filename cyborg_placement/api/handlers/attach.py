"""``PUT /accelerators/{uuid}`` (attach) and ``DELETE`` (detach)."""
import flask

from cyborg_placement.api import lifecycle
from cyborg_placement.api import policy
from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api.policies import accelerators as policies
from cyborg_placement.api.schemas import attach as schemas
from cyborg_placement.db import accelerators
from cyborg_placement.db import attachments


def _authorize(rule: str, project_id: str | None) -> None:
    policy.authorize(util.app_state().enforcer, rule, util.context(),
                     {'project_id': project_id})


def _rule(data: dict) -> str:
    if 'host' in data:
        return policies.ATTACH_HOST
    return (policies.ATTACH_INSTANCE if data.get('claim', True)
            else policies.BIND_EXISTING)


def attach_accelerator(uuid: str):
    state = util.app_state()
    uuid = util.path_uuid(uuid)
    data = util.json_body(schemas.ATTACH)
    context = util.context()
    rule = _rule(data)
    # Before any lookup: a caller who may not attach at all learns nothing
    # about accelerators and costs Placement nothing. Host attachments have
    # no project; an instance's project is checked again once it is known.
    _authorize(rule, None if 'host' in data else context.project_id)
    record = accelerators.get_record(state.db, uuid)
    if 'host' in data:
        target = lifecycle.host_target(state.services, record, data['host'],
                                       context, data.get('driver'))
        lifecycle.attach(state.services, record, target)
        return util.json_response(views.accelerator(
            accelerators.get(state.db, uuid)))
    target = lifecycle.instance_target(
        state.services, record, data['instance_uuid'], context)
    _authorize(rule, target.project_id)
    if rule == policies.ATTACH_INSTANCE:
        lifecycle.attach(state.services, record, target)
    else:
        lifecycle.bind(state.services, record, target)
    return util.json_response(views.accelerator(
        accelerators.get(state.db, uuid)))


def detach_accelerator(uuid: str):
    state = util.app_state()
    record = accelerators.get_record(state.db, util.path_uuid(uuid))
    active = attachments.active_for(state.db, record.id)
    if active is None:  # detaching what is not attached is a no-op
        project_id = util.context().project_id
    else:  # host attachments have no project: admins only
        project_id = active.project_id if active.instance_uuid else None
    _authorize(policies.DETACH, project_id)
    if active is not None:
        lifecycle.detach(state.services, active)
    return flask.Response(status=204)
