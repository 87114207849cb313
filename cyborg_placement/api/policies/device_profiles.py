"""Policies of ``/v2/device_profiles``, Cyborg's defaults: readers read,
admins create and delete."""
from cyborg_placement.api.policies import base

LIST = 'device_profile:list'
SHOW = 'device_profile:show'
CREATE = 'device_profile:create'
DELETE = 'device_profile:delete'

_PATH = '/v2/device_profiles'
_ONE = _PATH + '/{name_or_uuid}'

RULES = [
    base.documented(LIST, base.ANY_READER, 'List device profiles.',
                    ('GET', _PATH)),
    base.documented(SHOW, base.ANY_READER, 'Show a device profile.',
                    ('GET', _ONE)),
    base.documented(CREATE, base.ADMIN, 'Create a device profile.',
                    ('POST', _PATH)),
    base.documented(DELETE, base.ADMIN, 'Delete device profiles.',
                    ('DELETE', _ONE), ('DELETE', _PATH)),
]


def list_rules() -> list:
    return RULES
