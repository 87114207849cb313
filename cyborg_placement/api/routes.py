"""The whole HTTP surface on one screen: path -> {method: handler}.

:mod:`.app` registers it on Flask (which answers 405 with ``Allow`` from the
same table) and :mod:`.openapi` describes it; a test checks both agree.
"""
from cyborg_placement.api.handlers import accelerators
from cyborg_placement.api.handlers import attachments
from cyborg_placement.api.handlers import disabled
from cyborg_placement.api.handlers import hosts
from cyborg_placement.api.handlers import instances
from cyborg_placement.api.handlers import root

ROUTES = {
    '/': {'GET': root.versions},
    '/healthcheck': {'GET': root.healthcheck},
    '/openapi.json': {'GET': root.describe},
    '/accelerators': {
        'GET': accelerators.list_accelerators,
        'POST': accelerators.create_accelerator,
    },
    '/accelerators/<uuid>': {
        'GET': accelerators.show_accelerator,
        'POST': accelerators.create_accelerator_with_uuid,
        'PUT': accelerators.attach_accelerator,
        'DELETE': accelerators.detach_accelerator,
    },
    '/accelerators/<uuid>/acc_specs': {
        'PUT': accelerators.update_specs,
    },
    '/accelerators/<uuid>/disabled': {
        'PUT': disabled.update_disabled,
    },
    '/hosts/<host>/accelerators': {
        'PUT': hosts.report_devices,
    },
    '/hosts/<host>/attachments': {
        'GET': hosts.list_attachments,
    },
    '/attachments/<uuid>/state': {
        'PUT': attachments.report_state,
    },
    '/instances/<instance_uuid>/bindings': {
        'GET': instances.show_bindings,
        'PUT': instances.update_bindings,
        'DELETE': instances.delete_bindings,
    },
}
