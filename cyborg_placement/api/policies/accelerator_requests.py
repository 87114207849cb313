"""Policies of ``/v2/accelerator_requests``, Cyborg's defaults: members of
the ARQ's project, admins and services create, bind and delete; readers
read. ARQs are their project's: others neither see nor change them."""
from oslo_policy import policy

from cyborg_placement.api.policies import base

LIST = 'accelerator_request:list'
SHOW = 'accelerator_request:show'
CREATE = 'accelerator_request:create'
UPDATE = 'accelerator_request:update'
DELETE = 'accelerator_request:delete'
ALL_PROJECTS = 'accelerator_request:all_projects'

_PATH = '/v2/accelerator_requests'
#: Nova calls with the user's token, and a service token beside it when
#: ``[service_user] send_service_user_token`` is set.
_OWNER_OR_SERVICE = ('rule:service_api or service_roles:service or '
                     'rule:project_member_api')


def _rule(name, check, description, operations):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': m, 'path': p} for m, p in operations],
        scope_types=['project'])


RULES = [
    _rule(LIST, base.ANY_READER, "List accelerator requests (the caller's "
          "project's, or every project's with accelerator_request:"
          "all_projects).", [('GET', _PATH)]),
    _rule(SHOW, base.ANY_READER, 'Show an accelerator request.',
          [('GET', _PATH + '/{uuid}')]),
    _rule(ALL_PROJECTS, base.SERVICE_OR_ADMIN,
          'See and change the accelerator requests of every project.',
          [('GET', _PATH)]),
    _rule(CREATE, _OWNER_OR_SERVICE,
          'Create the accelerator requests of a device profile.',
          [('POST', _PATH)]),
    _rule(UPDATE, _OWNER_OR_SERVICE,
          'Bind or unbind accelerator requests.',
          [('PATCH', _PATH), ('PATCH', _PATH + '/{uuid}')]),
    _rule(DELETE, _OWNER_OR_SERVICE,
          'Delete accelerator requests, releasing their units.',
          [('DELETE', _PATH), ('DELETE', _PATH + '/{uuid}')]),
]


def list_rules() -> list:
    return RULES
