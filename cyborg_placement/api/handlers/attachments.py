"""``PUT /attachments/{uuid}/state``: the host reconciler's result."""
from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api.policies import attachments as policies
from cyborg_placement.api.schemas import attachments as schemas
from cyborg_placement.attach import flow
from cyborg_placement.db import attachments


def report_state(uuid: str):
    util.context().can(policies.REPORT_STATE)
    state = util.app_state()
    data = util.json_body(schemas.ATTACHMENT_STATE)
    record = attachments.get(state.db, util.path_uuid(uuid, 'attachment'))
    done = flow.report_state(state.services, record, data['state'],
                             data.get('reason'))
    return util.json_response(views.visible_attachment(util.viewer(), done))
