"""The whole HTTP surface on one screen: path -> {method: handler}.

:mod:`.app` registers it on Flask (which answers 405 with ``Allow`` from the
same table) and :mod:`.openapi` describes it; a test checks both agree.
"""
from cyborg_placement.api.handlers import accelerator_requests
from cyborg_placement.api.handlers import accelerators
from cyborg_placement.api.handlers import attachments
from cyborg_placement.api.handlers import attributes
from cyborg_placement.api.handlers import device_profiles
from cyborg_placement.api.handlers import devices
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
    # The Cyborg-compatible subset stock Nova, openstacksdk and
    # python-cyborgclient use (microversions 2.x).
    '/v2': {'GET': root.version_v2},
    '/v2/device_profiles': {
        'GET': device_profiles.list_device_profiles,
        'POST': device_profiles.create_device_profile,
        'DELETE': device_profiles.delete_device_profiles,
    },
    '/v2/device_profiles/<name_or_uuid>': {
        'GET': device_profiles.show_device_profile,
        'DELETE': device_profiles.delete_device_profile,
    },
    '/v2/accelerator_requests': {
        'GET': accelerator_requests.list_accelerator_requests,
        'POST': accelerator_requests.create_accelerator_requests,
        'PATCH': accelerator_requests.update_accelerator_requests,
        'DELETE': accelerator_requests.delete_accelerator_requests,
    },
    '/v2/accelerator_requests/<uuid>': {
        'GET': accelerator_requests.show_accelerator_request,
        'PATCH': accelerator_requests.update_accelerator_request,
        'DELETE': accelerator_requests.delete_accelerator_request,
    },
    '/v2/devices': {'GET': devices.list_devices},
    '/v2/devices/<uuid>': {'GET': devices.show_device},
    '/v2/devices/<uuid>/enable': {'POST': devices.enable_device},
    '/v2/devices/<uuid>/disable': {'POST': devices.disable_device},
    '/v2/deployables': {'GET': devices.list_deployables},
    '/v2/deployables/<uuid>': {'GET': devices.show_deployable},
    '/v2/attributes': {
        'GET': attributes.list_attributes,
        'POST': attributes.create_attribute,
    },
    '/v2/attributes/<uuid>': {
        'GET': attributes.show_attribute,
        'DELETE': attributes.delete_attribute,
    },
}
