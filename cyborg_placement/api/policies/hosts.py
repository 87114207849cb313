"""Policies of ``/hosts/{host}/...``: the calls of a host's agent."""
from oslo_policy import policy

from cyborg_placement.api.policies import base

REPORT_DEVICES = 'host:report_devices'
LIST_ATTACHMENTS = 'host:list_attachments'

RULES = [
    policy.DocumentedRuleDefault(
        name=REPORT_DEVICES, check_str=base.SERVICE_OR_ADMIN,
        description="Replace a host's accelerators with the agent's report.",
        operations=[{'method': 'PUT', 'path': '/hosts/{host}/accelerators'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=LIST_ATTACHMENTS, check_str=base.SERVICE_OR_ADMIN,
        description="The host reconciler's feed of attachment changes.",
        operations=[{'method': 'GET', 'path': '/hosts/{host}/attachments'}],
        scope_types=['project']),
]


def list_rules() -> list:
    return RULES
