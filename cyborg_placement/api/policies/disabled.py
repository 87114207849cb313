"""Policies of ``/accelerators/{uuid}/disabled``: taking a unit out of
service is the operator's."""
from oslo_policy import policy

from cyborg_placement.api.policies import base

UPDATE = 'accelerator:disabled:update'

RULES = [
    policy.DocumentedRuleDefault(
        name=UPDATE, check_str=base.ADMIN,
        description='Disable an accelerator (it is offered to nobody new, '
                    'as an unhealthy one) or enable it again.',
        operations=[{'method': 'PUT',
                     'path': '/accelerators/{uuid}/disabled'}],
        scope_types=['project']),
]


def list_rules() -> list:
    return RULES
