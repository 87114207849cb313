"""Policies of ``/v2/attributes``, Cyborg's defaults: readers read, admins
add and delete."""
from cyborg_placement.api.policies import base

LIST = 'attribute:list'
SHOW = 'attribute:show'
CREATE = 'attribute:create'
DELETE = 'attribute:delete'

_PATH = '/v2/attributes'
_ONE = _PATH + '/{uuid}'

RULES = [
    base.documented(LIST, base.ANY_READER,
                    'List the attributes of deployables.', ('GET', _PATH)),
    base.documented(SHOW, base.ANY_READER, 'Show an attribute.',
                    ('GET', _ONE)),
    base.documented(CREATE, base.ADMIN, 'Give a deployable an attribute '
                    '(one whose key starts with "trait" puts that trait on '
                    'its pool in Placement).', ('POST', _PATH)),
    base.documented(DELETE, base.ADMIN, 'Delete an attribute an admin gave.',
                    ('DELETE', _ONE)),
]


def list_rules() -> list:
    return RULES
