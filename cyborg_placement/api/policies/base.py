"""Personas the per-resource defaults are built from."""
from oslo_policy import policy

ADMIN = 'role:admin'
SERVICE = 'role:service'
SERVICE_OR_ADMIN = 'rule:service_api'
PROJECT_MEMBER = 'role:member and project_id:%(project_id)s'
#: Any role in the target's project (reader, member: without implied roles
#: under noauth, both are named).
PROJECT_READER = '(role:reader or role:member) and project_id:%(project_id)s'
ADMIN_OR_OWNER = 'rule:admin_api or rule:project_member_api'
#: Without implied roles (noauth) an admin or member is not also a reader,
#: so readers are listed with them.
ANY_READER = 'rule:admin_api or rule:service_api or role:member or role:reader'
#: Admins, services and the project that holds the target (its readers
#: too): what one project may learn of another's is decided by this.
HOLDER_OR_SERVICE = 'rule:service_api or rule:project_reader_api'

def documented(name: str, check: str, description: str,
               *operations: tuple[str, str]) -> policy.DocumentedRuleDefault:
    """A project-scoped rule of these (method, path) operations."""
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': m, 'path': p} for m, p in operations],
        scope_types=['project'])


RULES = [
    policy.RuleDefault('admin_api', ADMIN,
                       description='Cloud administrators.'),
    policy.RuleDefault('service_api', f'{SERVICE} or {ADMIN}',
                       description='OpenStack services (the agent, the host '
                                   'reconciler) and administrators.'),
    policy.RuleDefault('project_member_api', PROJECT_MEMBER,
                       description='Members of the project that owns the '
                                   'target (an instance or an attachment).'),
    policy.RuleDefault('project_reader_api', PROJECT_READER,
                       description='Readers and members of the project that '
                                   'owns the target (an instance or an '
                                   'attachment); a target without a project '
                                   '(a free unit, a host attachment) has no '
                                   'such readers.'),
]


def list_rules() -> list:
    return RULES
