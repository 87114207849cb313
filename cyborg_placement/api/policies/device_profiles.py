"""Policies of ``/v2/device_profiles``, Cyborg's defaults: readers read,
admins create and delete."""
from oslo_policy import policy

from cyborg_placement.api.policies import base

LIST = 'device_profile:list'
SHOW = 'device_profile:show'
CREATE = 'device_profile:create'
DELETE = 'device_profile:delete'

_PATH = '/v2/device_profiles'


def _rule(name, check, description, method, path=_PATH):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}],
        scope_types=['project'])


RULES = [
    _rule(LIST, base.ANY_READER, 'List device profiles.', 'GET'),
    _rule(SHOW, base.ANY_READER, 'Show a device profile.', 'GET',
          _PATH + '/{name_or_uuid}'),
    _rule(CREATE, base.ADMIN, 'Create a device profile.', 'POST'),
    policy.DocumentedRuleDefault(
        name=DELETE, check_str=base.ADMIN,
        description='Delete device profiles.',
        operations=[{'method': 'DELETE', 'path': _PATH + '/{name_or_uuid}'},
                    {'method': 'DELETE', 'path': _PATH}],
        scope_types=['project']),
]


def list_rules() -> list:
    return RULES
