"""Policies of ``/accelerators``."""
from oslo_policy import policy

from cyborg_placement.api.policies import base

LIST = 'accelerator:list'
SHOW = 'accelerator:show'
CREATE = 'accelerator:create'
UPDATE_SPECS = 'accelerator:update_specs'
ATTACH_INSTANCE = 'accelerator:attach:instance'
ATTACH_HOST = 'accelerator:attach:host'
BIND_EXISTING = 'accelerator:attach:bind_existing'
DETACH = 'accelerator:detach'
#: What a caller may see of a unit; the target is the project holding it.
SHOW_HOLDER = 'accelerator:show:holder'
SHOW_HOST = 'accelerator:show:host'
SHOW_PCI_ADDRESS = 'accelerator:show:pci_address'

_SCOPE = ['project']


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}], scope_types=_SCOPE)


#: Every answer that shows accelerators or attachments.
_SHOWN_IN = [{'method': 'GET', 'path': '/accelerators'},
             {'method': 'GET', 'path': '/accelerators/{uuid}'},
             {'method': 'PUT', 'path': '/accelerators/{uuid}'},
             {'method': 'GET', 'path': '/instances/{instance_uuid}/bindings'}]


def _field_rule(name, description):
    return policy.DocumentedRuleDefault(
        name=name, check_str=base.HOLDER_OR_SERVICE, description=description,
        operations=_SHOWN_IN, scope_types=_SCOPE)


RULES = [
    _rule(LIST, base.ANY_READER, 'List accelerators.', 'GET',
          '/accelerators'),
    _rule(SHOW, base.ANY_READER, 'Show one accelerator.', 'GET',
          '/accelerators/{uuid}'),
    _rule(CREATE, base.ADMIN, 'Create an accelerator record.', 'POST',
          '/accelerators'),
    _rule(UPDATE_SPECS, base.ADMIN, "Replace an accelerator's acc_specs.",
          'PUT', '/accelerators/{uuid}/acc_specs'),
    _rule(ATTACH_INSTANCE, base.ADMIN_OR_OWNER,
          'Attach an accelerator to an instance of the project (the project '
          "of the instance's Placement consumer, or of the request for an "
          'instance without allocations).', 'PUT', '/accelerators/{uuid}'),
    _rule(ATTACH_HOST, base.ADMIN, 'Attach an accelerator to a host.', 'PUT',
          '/accelerators/{uuid}'),
    _rule(BIND_EXISTING, base.SERVICE_OR_ADMIN,
          "Record which accelerator an instance's own (Nova's) allocation "
          'holds, without claiming ("claim": false).', 'PUT',
          '/accelerators/{uuid}'),
    _rule(DETACH, base.ADMIN_OR_OWNER,
          'Detach an accelerator from an instance of the project; host '
          'attachments (no project) only by admins.', 'DELETE',
          '/accelerators/{uuid}'),
    _field_rule(SHOW_HOLDER,
                "See who holds a unit: its attachment's instance, project, "
                'user, consumer, reason and the rest (target: the '
                "attachment's project; a host attachment has none). Others "
                'see only the attachment\'s state and holds_accelerator, and '
                '?instance_uuid= finds nothing for them.'),
    _field_rule(SHOW_HOST,
                "See a unit's host and pool provider (target: the project "
                'whose attachment holds the unit; a free unit has none). '
                'Others get them left out, and ?host= matches only units '
                'whose host they may see. Open it ("rule:admin_api or '
                'rule:service_api or role:member or role:reader") to let '
                'members pick units by host.'),
    _field_rule(SHOW_PCI_ADDRESS,
                "See a unit's PCI address (target: as for "
                f'{SHOW_HOST}). Others get it left out.'),
]


def list_rules() -> list:
    return RULES
