"""``PUT /attachments/{uuid}/state``: the host reconciler's result."""
from cyborg_placement.api import lifecycle
from cyborg_placement.api import policy
from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api.policies import hosts as policies
from cyborg_placement.api.schemas import hosts as schemas
from cyborg_placement.db import attachments


def report_state(uuid: str):
    state = util.app_state()
    policy.authorize(state.enforcer, policies.REPORT_ATTACHMENT_STATE,
                     util.context())
    data = util.json_body(schemas.ATTACHMENT_STATE)
    record = attachments.get(state.db, util.path_uuid(uuid, 'attachment'))
    done = lifecycle.report_state(state.services, record, data['state'],
                                  data.get('reason'))
    return util.json_response(views.attachment(done))
