"""Policies of ``/attachments/{uuid}/...``: the host reconciler's results."""
from oslo_policy import policy

from cyborg_placement.api.policies import base

REPORT_STATE = 'attachment:report_state'

RULES = [
    policy.DocumentedRuleDefault(
        name=REPORT_STATE, check_str=base.SERVICE_OR_ADMIN,
        description='The host reconciler reports attached, attach_failed or '
                    'detached.',
        operations=[{'method': 'PUT', 'path': '/attachments/{uuid}/state'}],
        scope_types=['project']),
]


def list_rules() -> list:
    return RULES
