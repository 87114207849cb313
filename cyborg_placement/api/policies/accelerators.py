"""Policies of ``/accelerators``."""
from oslo_policy import policy

from cyborg_placement.api.policies import base

LIST = 'accelerator:list'
SHOW = 'accelerator:show'
CREATE = 'accelerator:create'
UPDATE_SPECS = 'accelerator:update_specs'
ATTACH_INSTANCE = 'accelerator:attach:instance'
ATTACH_HOST = 'accelerator:attach:host'
BIND_EXISTING = 'accelerator:attach:bind_existing'
DETACH = 'accelerator:detach'

_SCOPE = ['project']


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}], scope_types=_SCOPE)


RULES = [
    _rule(LIST, base.ANY_READER, 'List accelerators.', 'GET',
          '/accelerators'),
    _rule(SHOW, base.ANY_READER, 'Show one accelerator.', 'GET',
          '/accelerators/{uuid}'),
    _rule(CREATE, base.ADMIN, 'Create an accelerator record.', 'POST',
          '/accelerators'),
    _rule(UPDATE_SPECS, base.ADMIN, "Replace an accelerator's acc_specs.",
          'PUT', '/accelerators/{uuid}/acc_specs'),
    _rule(ATTACH_INSTANCE, base.ADMIN_OR_OWNER,
          'Attach an accelerator to an instance of the project (the project '
          "of the instance's Placement consumer, or of the request for an "
          'instance without allocations).', 'PUT', '/accelerators/{uuid}'),
    _rule(ATTACH_HOST, base.ADMIN, 'Attach an accelerator to a host.', 'PUT',
          '/accelerators/{uuid}'),
    _rule(BIND_EXISTING, base.SERVICE_OR_ADMIN,
          "Record which accelerator an instance's own (Nova's) allocation "
          'holds, without claiming ("claim": false).', 'PUT',
          '/accelerators/{uuid}'),
    _rule(DETACH, base.ADMIN_OR_OWNER,
          'Detach an accelerator from an instance of the project; host '
          'attachments (no project) only by admins.', 'DELETE',
          '/accelerators/{uuid}'),
]


def list_rules() -> list:
    return RULES
