"""Policies of ``/v2/attributes``, Cyborg's defaults: readers read, admins
add and delete."""
from oslo_policy import policy

from cyborg_placement.api.policies import base

LIST = 'attribute:list'
SHOW = 'attribute:show'
CREATE = 'attribute:create'
DELETE = 'attribute:delete'

_PATH = '/v2/attributes'


def _rule(name, check, description, method, path=_PATH):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}],
        scope_types=['project'])


RULES = [
    _rule(LIST, base.ANY_READER, 'List the attributes of deployables.',
          'GET'),
    _rule(SHOW, base.ANY_READER, 'Show an attribute.', 'GET',
          _PATH + '/{uuid}'),
    _rule(CREATE, base.ADMIN, 'Give a deployable an attribute (one whose '
          'key starts with "trait" puts that trait on its pool in '
          'Placement).', 'POST'),
    _rule(DELETE, base.ADMIN, 'Delete an attribute an admin gave.',
          'DELETE', _PATH + '/{uuid}'),
]


def list_rules() -> list:
    return RULES
