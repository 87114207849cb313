"""Policies of ``/instances/{instance_uuid}/bindings``: the units an
instance's own (Nova's) allocation holds."""
from oslo_policy import policy

from cyborg_placement.api.policies import base

UPDATE_BINDINGS = 'instance:bindings:update'
DELETE_BINDINGS = 'instance:bindings:delete'
SHOW_BINDINGS = 'instance:bindings:show'

_PATH = '/instances/{instance_uuid}/bindings'


def _rule(name, check, description, method):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': _PATH}],
        scope_types=['project'])


RULES = [
    _rule(UPDATE_BINDINGS, base.SERVICE_OR_ADMIN,
          "Bind the units the instance's allocation holds on a host's "
          'pools (Nova).', 'PUT'),
    _rule(DELETE_BINDINGS, base.SERVICE_OR_ADMIN,
          "Release the instance's bindings on a host or every host (Nova).",
          'DELETE'),
    _rule(SHOW_BINDINGS, base.HOLDER_OR_SERVICE,
          "Show the instance's bindings (readers and members of the "
          "instance's project: the project its bindings were made for). "
          'Bindings of another project are not shown: the answer is the '
          "one for an instance without bindings.", 'GET'),
]


def list_rules() -> list:
    return RULES
