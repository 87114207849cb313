"""Personas the per-resource defaults are built from."""
from oslo_policy import policy

ADMIN = 'role:admin'
SERVICE = 'role:service'
SERVICE_OR_ADMIN = 'rule:service_api'
PROJECT_MEMBER = 'role:member and project_id:%(project_id)s'
ADMIN_OR_OWNER = 'rule:admin_api or rule:project_member_api'
#: Without implied roles (noauth) an admin or member is not also a reader,
#: so readers are listed with them.
ANY_READER = 'rule:admin_api or rule:service_api or role:member or role:reader'

RULES = [
    policy.RuleDefault('admin_api', ADMIN,
                       description='Cloud administrators.'),
    policy.RuleDefault('service_api', f'{SERVICE} or {ADMIN}',
                       description='OpenStack services (the agent, the host '
                                   'reconciler) and administrators.'),
    policy.RuleDefault('project_member_api', PROJECT_MEMBER,
                       description='Members of the project that owns the '
                                   'target (an instance or an attachment).'),
]


def list_rules() -> list:
    return RULES
