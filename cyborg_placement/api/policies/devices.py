"""Policies of ``/v2/devices`` and ``/v2/deployables``, Cyborg's defaults:
readers read, admins enable and disable."""
from oslo_policy import policy

from cyborg_placement.api.policies import base

LIST = 'device:list'
SHOW = 'device:show'
ENABLE = 'device:enable'
DISABLE = 'device:disable'
LIST_DEPLOYABLES = 'deployable:list'
SHOW_DEPLOYABLE = 'deployable:show'


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}],
        scope_types=['project'])


RULES = [
    _rule(LIST, base.ANY_READER, 'List devices (our units).', 'GET',
          '/v2/devices'),
    _rule(SHOW, base.ANY_READER, 'Show a device.', 'GET',
          '/v2/devices/{uuid}'),
    _rule(ENABLE, base.ADMIN, 'Enable a device.', 'POST',
          '/v2/devices/{uuid}/enable'),
    _rule(DISABLE, base.ADMIN, 'Disable a device.', 'POST',
          '/v2/devices/{uuid}/disable'),
    _rule(LIST_DEPLOYABLES, base.ANY_READER, 'List deployables (our units).',
          'GET', '/v2/deployables'),
    _rule(SHOW_DEPLOYABLE, base.ANY_READER, 'Show a deployable.', 'GET',
          '/v2/deployables/{uuid}'),
]


def list_rules() -> list:
    return RULES
