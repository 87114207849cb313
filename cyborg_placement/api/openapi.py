"""The OpenAPI 3.1 description served at ``/openapi.json``.

Request bodies are the JSON Schemas the handlers validate with, so the
description cannot drift from the validation; a test checks that every route
of :mod:`.routes` is described and nothing else.
"""
import functools

from cyborg_placement.api import errors
from cyborg_placement.api import microversion
from cyborg_placement.api.schemas import accelerator_requests
from cyborg_placement.api.schemas import accelerators
from cyborg_placement.api.schemas import attachments
from cyborg_placement.api.schemas import attributes
from cyborg_placement.api.schemas import device_profiles
from cyborg_placement.api.schemas import devices
from cyborg_placement.api.schemas import disabled
from cyborg_placement.api.schemas import hosts
from cyborg_placement.api.schemas import instances

_ERROR = {'$ref': '#/components/schemas/Error'}
_JSON = {'application/json': {'schema': {'type': 'object'}}}
#: Path uuids are read by uuid.UUID, so other spellings work too.
_PATH_UUID = {'type': 'string', 'format': 'uuid'}
#: Path parameters other than ``{uuid}``.
_PATH_SCHEMAS = {
    ('/hosts/{host}/accelerators', 'host'): hosts.REPORTING_HOST,
    ('/hosts/{host}/attachments', 'host'): hosts.HOST,
    ('/v2/device_profiles/{name_or_uuid}', 'name_or_uuid'):
        device_profiles.NAME_OR_UUID,
}


def _field(kind: str | list, description: str, **more) -> dict:
    return {'type': kind, 'description': description, **more}


#: Said of the fields a caller who may not see the holder does not get.
_HOLDER_ONLY = (' Left out for callers who may not see the holder (policy '
                'accelerator:show:holder; by default admins, services and '
                'the holding project).')

#: An attachment as the API shows it (``attachment`` of an accelerator, the
#: reconciler feed, ``PUT /attachments/{uuid}/state``).
ATTACHMENT = {
    'type': 'object',
    'properties': {
        'uuid': _field('string', 'The attachment.' + _HOLDER_ONLY,
                       format='uuid'),
        'accelerator_uuid': _field('string', 'The accelerator attached.',
                                   format='uuid'),
        'pci_address': _field(
            'string', "The unit's PCI address." + _HOLDER_ONLY + ' Also '
            'left out without accelerator:show:pci_address.'),
        'vgpu_interface': _field(
            ['string', 'null'], 'For a vGPU unit, how it is made: vfio '
            '(vendor-specific VFIO) or mdev; null for a whole device.'
            + _HOLDER_ONLY, enum=['vfio', 'mdev', None]),
        'vgpu_type': _field(
            ['string', 'null'], 'For a vGPU unit, what creates it on its VF '
            '(pci_address): a vendor-VFIO type id, or an mdev type; null for '
            'a whole device.' + _HOLDER_ONLY),
        'mdev_uuid': _field(
            ['string', 'null'], "For an mdev vGPU unit, the mdev's UUID."
            + _HOLDER_ONLY + ' Also left out without '
            'accelerator:show:pci_address.'),
        'instance_uuid': _field(['string', 'null'],
                                'The instance, for an instance attachment.'
                                + _HOLDER_ONLY),
        'host': _field(['string', 'null'], 'The host, for a host attachment.'
                       + _HOLDER_ONLY + ' Also left out without '
                       'accelerator:show:host.'),
        'driver': _field(['string', 'null'],
                         'The host driver a host attach request named.'
                         + _HOLDER_ONLY),
        'project_id': _field(['string', 'null'],
                             "The instance's project." + _HOLDER_ONLY),
        'user_id': _field(['string', 'null'], 'Who asked.' + _HOLDER_ONLY),
        'state': _field('string', 'Where the attachment is.', enum=[
            'attaching', 'attached', 'detaching', 'attach_failed',
            'detached']),
        'holds_accelerator': _field(
            'boolean', 'True while the attachment holds the unit (attaching, '
            'attached, detaching): nobody else can attach it. False once it '
            'ended (detached, attach_failed).'),
        'reason': _field(['string', 'null'],
                         'Why an attach failed.' + _HOLDER_ONLY),
        'consumer_uuid': _field(['string', 'null'],
                                'The Placement consumer of the claim.'
                                + _HOLDER_ONLY),
        'claim': _field('string', 'Who made the claim: the API, or an '
                        'allocation it binds to (Nova\'s).' + _HOLDER_ONLY,
                        enum=['api', 'existing_allocation']),
        'revision': _field('integer', 'The host revision of its last change.'
                           + _HOLDER_ONLY),
        'created_at': _field('string', 'UTC.' + _HOLDER_ONLY,
                             format='date-time'),
        'updated_at': _field(['string', 'null'], 'UTC.' + _HOLDER_ONLY,
                             format='date-time'),
    },
}


def _response(code: int, text: str, links: dict | None,
              empty: bool = False) -> dict:
    response = {'description': text}
    if code >= 400:
        response['content'] = {'application/json': {'schema': _ERROR}}
    elif code == 200 and not empty:
        response['content'] = _JSON
    if links and str(code) in links:
        response['links'] = links[str(code)]
    return response


def _op(operation_id: str, summary: str, codes: dict, body: dict | None = None,
        query: dict | None = None, public: bool = False,
        links: dict | None = None, empty: bool = False) -> dict:
    """One operation, named as its handler; ``links`` (per status code) tell
    clients (and the fuzz's stateful phase) where an answer's values lead;
    ``empty``: its 200 has no body (Cyborg's device enable and disable)."""
    operation = {
        'operationId': operation_id,
        'summary': summary,
        'responses': {str(code): _response(code, text, links, empty)
                      for code, text in codes.items()},
    }
    if body is not None:
        operation['requestBody'] = {
            'required': True,
            'content': {'application/json': {'schema': body}}}
    if query:
        operation['parameters'] = [
            {'name': name, 'in': 'query', 'schema': schema}
            for name, schema in query.items()]
    if public:
        operation['security'] = []
    return operation


def _to(operation: str, body: dict | None = None, **parameters) -> dict:
    link = {'operationId': operation, 'parameters': parameters}
    if body is not None:
        link['requestBody'] = body
    return link


def _bind(instance_uuid: str, host: str) -> dict:
    """The bind of an instance on a host, as runtime expressions."""
    return _to('update_bindings', {'host': host}, instance_uuid=instance_uuid)


def _accelerator_links(uuid: str, host: str | None = None,
                       holder: str | None = None) -> dict:
    """Where an accelerator's uuid (and host, and its holder instance's
    uuid) lead, as runtime expressions."""
    links = {'show': _to('show_accelerator', uuid=uuid),
             'update_specs': _to('update_specs', uuid=uuid),
             'attach_instance': _to('attach_accelerator', uuid=uuid),
             'disable': _to('update_disabled', uuid=uuid),
             'detach': _to('detach_accelerator', uuid=uuid)}
    if host is not None:
        links['attach_host'] = _to('attach_accelerator', {'host': host},
                                   uuid=uuid)
    if holder is not None:
        links['bind_holder'] = _bind(holder, host)
    return links


_AUTH = {400: 'Bad input (message says why).', 401: 'No token.',
         403: 'Not allowed by policy.'}
_ONE = {**_AUTH, 404: 'No such accelerator.'}
#: A path segment holding '/' matches no route.
_HOST_CODES = {**_AUTH, 404: "No such route (a host name holding '/')."}
_CREATED = {201: 'Created; Location header.', **_AUTH,
            409: 'Name or uuid taken.'}

_ARQ_ONE = {**_AUTH, 404: 'No such accelerator request (or not of the '
                          "caller's project)."}
_DP_ONE = {**_AUTH, 404: 'No such device profile.'}
_DEVICE_ONE = {**_AUTH, 404: 'No such unit.'}
_ATTRIBUTE_ONE = {**_AUTH, 404: 'No such attribute.'}
_BIND = {409: 'An ARQ is bound elsewhere, the instance\'s allocation holds '
              'fewer units of the pool than its ARQs ask for, Placement '
              'does not have the pool (accelerator.pool.not_in_placement, '
              'naming it), or the pool is of vendor-VFIO vGPUs, which '
              'stock Nova cannot attach (accelerator_request.bind.'
              'vfio_vgpu); nothing was bound.',
         503: 'Placement unreachable.'}

#: The Cyborg-compatible subset under /v2 (microversions 2.0 to 2.3).
V2_OPERATIONS = {
    ('/v2', 'get'): _op('version_v2', 'Version of the /v2 subset: '
                        '{"version": {"id": "v2.0", ...}}.',
                        {200: 'The version.'}, public=True),
    ('/v2/device_profiles', 'get'): _op(
        'list_device_profiles',
        'List device profiles (?name= gives the one Nova looks up).',
        {200: '{"device_profiles": [...]}.', **_AUTH},
        query=device_profiles.LIST_QUERY,
        links={'200': {'show': _to(
            'show_device_profile',
            name_or_uuid='$response.body#/device_profiles/0/uuid')}}),
    ('/v2/device_profiles', 'post'): _op(
        'create_device_profile',
        'Create a device profile (admin): a JSON list of one profile.',
        {201: 'The profile; Location header.', **_AUTH,
         409: 'Name or uuid taken.'}, device_profiles.CREATE,
        links={'201': {'show': _to('show_device_profile',
                                   name_or_uuid='$response.body#/uuid')}}),
    ('/v2/device_profiles', 'delete'): _op(
        'delete_device_profiles',
        'Delete the device profiles ?value= names (names or uuids, '
        'separated by commas; admin): all or none.',
        {204: 'Deleted.', **_DP_ONE,
         409: 'Accelerator requests made from one of them exist.'},
        query=device_profiles.DELETE_QUERY),
    ('/v2/device_profiles/{name_or_uuid}', 'get'): _op(
        'show_device_profile',
        'Show a device profile by uuid (by name from microversion 2.2): '
        '{"device_profile": {...}}.',
        {200: 'The profile.', **_DP_ONE}),
    ('/v2/device_profiles/{name_or_uuid}', 'delete'): _op(
        'delete_device_profile',
        'Delete device profiles by uuid or name, at every microversion '
        '(names and uuids separated by commas; admin): all or none.',
        {204: 'Deleted.', **_DP_ONE,
         409: 'Accelerator requests made from one of them exist.'}),
    ('/v2/accelerator_requests', 'get'): _op(
        'list_accelerator_requests',
        'List ARQs ({"arqs": [...]}), of the caller\'s project unless '
        'admin or service; ?instance= gives a server\'s.',
        {200: 'The ARQs; bound ones carry attach_handle_type "PCI" and '
              'attach_handle_info {domain, bus, device, function}, or for '
              'an mdev vGPU unit "MDEV", attach_handle_uuid (the mdev\'s '
              'UUID) and attach_handle_info with its parent\'s address '
              'and asked_type (the mdev type).',
         **_AUTH}, query=accelerator_requests.LIST_QUERY),
    ('/v2/accelerator_requests', 'post'): _op(
        'create_accelerator_requests',
        'Create one ARQ ("Initial") per unit the named device profile\'s '
        'groups ask for.',
        {201: '{"arqs": [...]}.', **_AUTH,
         404: 'No such device profile.'}, accelerator_requests.CREATE,
        links={'201': {'show': _to(
            'show_accelerator_request',
            uuid='$response.body#/arqs/0/uuid')}}),
    ('/v2/accelerator_requests', 'patch'): _op(
        'update_accelerator_requests',
        'Bind ARQs (RFC 6902 "add" of /hostname, /device_rp_uuid, '
        '/instance_uuid) or unbind them ("remove"), keyed by ARQ uuid: '
        'synchronous, all or nothing. Binding takes a unit of the pool '
        'device_rp_uuid that the instance\'s allocation holds (no Placement '
        'write).', {200: '{"arqs": [...]}, as they are now.', **_ARQ_ONE,
                    **_BIND}, accelerator_requests.PATCH),
    ('/v2/accelerator_requests', 'delete'): _op(
        'delete_accelerator_requests',
        'Delete ?instance=UUID\'s ARQs (idempotent) or ?arqs=u1,u2 (all '
        'or none), releasing their units.',
        {204: 'Deleted.', **_AUTH,
         404: 'An ARQ of ?arqs= does not exist (or is another project\'s).'},
        query=accelerator_requests.DELETE_QUERY),
    ('/v2/accelerator_requests/{uuid}', 'get'): _op(
        'show_accelerator_request', 'Show one ARQ.',
        {200: 'The ARQ.', **_ARQ_ONE}),
    ('/v2/accelerator_requests/{uuid}', 'patch'): _op(
        'update_accelerator_request',
        'Bind or unbind one ARQ: a JSON patch list, or {uuid: [patch]} '
        '(openstacksdk).',
        {200: 'The ARQ.', **_ARQ_ONE, **_BIND},
        accelerator_requests.PATCH_ITEM),
    ('/v2/devices', 'get'): _op(
        'list_devices', 'Our reported units as Cyborg devices '
        '({"devices": [...]}); status from microversion 2.3.',
        {200: 'The devices.', **_AUTH}, query=devices.LIST_QUERY,
        links={'200': {'show': _to('show_device',
                                   uuid='$response.body#/devices/0/uuid')}}),
    ('/v2/devices/{uuid}', 'get'): _op(
        'show_device', 'One device.', {200: 'The device.', **_DEVICE_ONE}),
    ('/v2/devices/{uuid}/enable', 'post'): _op(
        'enable_device', 'Enable a device (admin); status "enabled".',
        {200: 'Enabled (no body, as Cyborg).', **_DEVICE_ONE}, empty=True),
    ('/v2/devices/{uuid}/disable', 'post'): _op(
        'disable_device', 'Disable a device (admin); status "maintaining", '
        'Cyborg\'s word.', {200: 'Disabled (no body, as Cyborg).',
                             **_DEVICE_ONE}, empty=True),
    ('/v2/deployables', 'get'): _op(
        'list_deployables', 'Our reported units as Cyborg deployables '
        '({"deployables": [...]}).', {200: 'The deployables.', **_AUTH},
        links={'200': {'show': _to(
            'show_deployable', uuid='$response.body#/deployables/0/uuid')}}),
    ('/v2/deployables/{uuid}', 'get'): _op(
        'show_deployable', 'One deployable.',
        {200: 'The deployable.', **_DEVICE_ONE}),
    ('/v2/attributes', 'get'): _op(
        'list_attributes', 'Attributes of deployables ({"attributes": '
        '[...]}): each unit\'s rc and traits (derived from its report) and '
        'those an admin gave; ?deployable_id= (integer id or uuid), ?key=.',
        {200: 'The attributes.', **_AUTH}, query=attributes.LIST_QUERY,
        links={'200': {'show': _to(
            'show_attribute', uuid='$response.body#/attributes/0/uuid')}}),
    ('/v2/attributes', 'post'): _op(
        'create_attribute', 'Give a deployable an attribute (admin); a key '
        'starting with "trait" puts its value, a custom trait, on the '
        'unit\'s pool provider in Placement.',
        {201: 'The attribute; Location header.', **_AUTH,
         404: 'No such deployable.',
         409: 'The key is taken, or the unit is in no pool.',
         503: 'Placement unreachable (nothing kept).'}, attributes.CREATE,
        links={'201': {'show': _to('show_attribute',
                                   uuid='$response.body#/uuid')}}),
    ('/v2/attributes/{uuid}', 'get'): _op(
        'show_attribute', 'One attribute.',
        {200: 'The attribute.', **_ATTRIBUTE_ONE}),
    ('/v2/attributes/{uuid}', 'delete'): _op(
        'delete_attribute', 'Delete an attribute an admin gave (admin); a '
        'trait leaves the pool unless another attribute of its units names '
        'it.', {204: 'Deleted.', **_ATTRIBUTE_ONE,
                409: 'Derived from the device report (rc, traits).',
                503: 'Placement unreachable (nothing deleted).'}),
    ('/v2/accelerator_requests/{uuid}', 'delete'): _op(
        'delete_accelerator_request', 'Delete one ARQ, releasing its unit.',
        {204: 'Deleted.', **_ARQ_ONE}),
}

OPERATIONS = {
    ('/', 'get'): _op('versions', 'Version discovery: v1.0 (this API, 1.x) '
                      'and v2.0 (the Cyborg-compatible subset under /v2, '
                      '2.x).', {200: 'Versions.'}, public=True),
    ('/healthcheck', 'get'): _op(
        'healthcheck', 'Health of the API and its database.',
        {200: 'Healthy.', 503: 'Database unreachable.'}, public=True),
    ('/openapi.json', 'get'): _op('describe', 'This description.',
                                  {200: 'OpenAPI document.'}, public=True),
    ('/accelerators', 'get'): _op(
        'list_accelerators',
        'List accelerators; key "accelerator". Each as "show" shows it to '
        'the caller. ?host= matches only units whose host the caller may '
        'see, ?instance_uuid= only units whose holder it may see (another '
        "project's instance: none).",
        {200: 'A page.', **_AUTH, 404: 'No accelerator is the marker.'},
        query=accelerators.LIST_QUERY,
        links={'200': _accelerator_links(
            '$response.body#/accelerator/0/uuid',
            '$response.body#/accelerator/0/host',
            '$response.body#/accelerator/0/attachment/instance_uuid')}),
    ('/accelerators', 'post'): _op(
        'create_accelerator', 'Create an accelerator record (admin).',
        _CREATED, accelerators.CREATE),
    ('/accelerators/{uuid}', 'get'): _op(
        'show_accelerator',
        'Show one accelerator and its attachment; ETag header. A vGPU unit '
        '(one profile of one VF, "pci_address") has "vgpu_interface" (vfio '
        'or mdev), "vgpu_type", "vgpu_profile", "parent_address" (its GPU) '
        'and, for mdev, "mdev_uuid"; all null for a whole device. Fields the '
        'caller may not see are left out: "host" and "pool_provider_uuid" '
        '(policy accelerator:show:host), "pci_address" '
        '(accelerator:show:pci_address), with it a vGPU unit\'s '
        '"parent_address" and "mdev_uuid", a reported unit\'s "name" '
        '(<host>:<PCI address>[:<vGPU type>]) with either, and of the '
        'attachment all but '
        '"accelerator_uuid", "state" and "holds_accelerator" '
        '(accelerator:show:holder). By default admins and services see '
        'all, the project holding the unit its holder and place, others '
        'neither.',
        {200: 'The accelerator.', **_ONE},
        links={'200': _accelerator_links(
            '$request.path.uuid', '$response.body#/host',
            '$response.body#/attachment/instance_uuid')}),
    ('/accelerators/{uuid}', 'post'): _op(
        'create_accelerator_with_uuid',
        'Create an accelerator record with this uuid (admin); a "uuid" in '
        'the body must be this one.', _CREATED, accelerators.CREATE,
        links={'201': _accelerator_links('$request.path.uuid')}),
    ('/accelerators/{uuid}', 'put'): _op(
        'attach_accelerator',
        'Attach to an instance or a host: claim one unit of the pool in '
        'Placement, then record "attaching". A host attach may name the '
        'host driver ("driver", such as vfio-pci); without it the agent\'s '
        'host_attach_rule / host_attach_driver decide.',
        {200: 'The accelerator; its attachment (instance_uuid or host, '
              'driver, state "attaching").', **_ONE,
         409: 'Attached elsewhere, no free unit, not on that host, '
              'unhealthy or disabled, a vGPU asked for a host, or Placement '
              'does not have its pool (accelerator.pool.not_in_placement, '
              'naming it).',
         503: 'Placement unreachable.'}, accelerators.ATTACH,
        links={'200': {
            'detach': _to('detach_accelerator', uuid='$request.path.uuid'),
            'bind': _bind('$request.body#/instance_uuid',
                          '$response.body#/host'),
            'report_state': _to('report_state',
                                uuid='$response.body#/attachment/uuid')}}),
    ('/accelerators/{uuid}', 'delete'): _op(
        'detach_accelerator',
        'Detach: the host detaches, then the claim is released.',
        {204: 'Detaching (or was not attached).', **_ONE,
         409: "Held by an allocation the API did not make (Nova's).",
         503: 'Placement unreachable.'}),
    ('/accelerators/{uuid}/acc_specs', 'put'): _op(
        'update_specs', 'Replace acc_specs (admin); optional If-Match.',
        {200: 'Updated; new ETag.', **_ONE,
         409: 'If-Match no longer matches, or the device report says '
              'otherwise of a reported unit.'}, accelerators.UPDATE_SPECS),
    ('/accelerators/{uuid}/disabled', 'put'): _op(
        'update_disabled',
        'Disable an accelerator (admin): it is given to no new holder and '
        'its agent reserves it in Placement, as an unhealthy one; its '
        'holder keeps it. {"disabled": false} enables it again.',
        {200: 'The accelerator (disabled, disabled_reason, disabled_at).',
         **_ONE}, disabled.UPDATE,
        links={'200': {'show': _to('show_accelerator',
                                   uuid='$request.path.uuid')}}),
    ('/hosts/{host}/accelerators', 'put'): _op(
        'report_devices',
        "The agent's device report: the host's full list of units "
        '(service).', {200: "The host's accelerators.", **_HOST_CODES},
        hosts.DEVICE_REPORT,
        links={'200': {
            **_accelerator_links(
                '$response.body#/accelerators/0/uuid', '$request.path.host',
                '$response.body#/accelerators/0/attachment/instance_uuid'),
            'feed': _to('list_attachments', host='$request.path.host')}}),
    ('/hosts/{host}/attachments', 'get'): _op(
        'list_attachments',
        "The host reconciler's feed of attachment changes (service); "
        'answers {"attachments": [...], "revision": N, "units": '
        '{"disabled": [PCI address...], "held": [PCI address...]}, '
        '"report_digest": the digest of the last accepted device report, '
        'or null}.',
        {200: 'Changes.', **_HOST_CODES, 503: 'Placement unreachable.'},
        query=hosts.FEED_QUERY,
        links={'200': {'report_state': _to(
            'report_state', uuid='$response.body#/attachments/0/uuid')}}),
    ('/attachments/{uuid}/state', 'put'): _op(
        'report_state',
        'Report attached, attach_failed (with reason) or detached '
        '(service); a final state releases the claim.',
        {200: 'The attachment.', **_AUTH, 404: 'No such attachment.',
         409: 'Not a valid next state.', 503: 'Placement unreachable.'},
        attachments.ATTACHMENT_STATE),
    ('/instances/{instance_uuid}/bindings', 'put'): _op(
        'update_bindings',
        "Bind, on each of the host's pools, as many units as the "
        "instance's allocation holds there in Placement (Nova's allocation "
        'is the claim: Placement is not written), releasing bindings beyond '
        'that (service); answers {"bindings": [accelerator...]}: the '
        "instance's bindings on that host. Idempotent; all or nothing. "
        'With "numa" (the host NUMA nodes of the guest\'s cells, their '
        'sockets, and a policy: required, socket, preferred or legacy, as '
        "Nova's hw:pci_numa_affinity_policy) the units it adds are the "
        'nearest the policy allows; units already bound are kept.',
        {200: 'The bound accelerators, each with its attachment '
              '(claim "existing_allocation", state "attached"), its '
              'numa_node and socket.', **_AUTH,
         409: 'A pool has fewer present, free units than the allocation '
              'holds (accelerator.bind.not_enough_units, naming the pool), '
              'or fewer where the NUMA policy allows '
              '(accelerator.bind.numa_affinity, naming the guest\'s nodes '
              'and those of the free units); nothing was bound.',
         503: 'Placement unreachable.'}, instances.BIND,
        links={'200': {
            'show': _to('show_bindings',
                        instance_uuid='$request.path.instance_uuid'),
            'delete': _to('delete_bindings',
                          instance_uuid='$request.path.instance_uuid')}}),
    ('/instances/{instance_uuid}/bindings', 'delete'): _op(
        'delete_bindings',
        "Release the instance's bindings on ?host= (without it: on every "
        'host); service. Idempotent.',
        {204: 'Released (or there were none).', **_AUTH},
        query=instances.RELEASE_QUERY),
    ('/instances/{instance_uuid}/bindings', 'get'): _op(
        'show_bindings',
        "The instance's bindings on every host: "
        '{"bindings": [accelerator...]}. Another project\'s instance '
        'has none.',
        {200: 'The bound accelerators.', **_AUTH}),
    **{(path, method): operation
       for (path, method), operation in V2_OPERATIONS.items()},
}


def _path_parameters(path: str) -> list[dict]:
    names = [part[1:-1] for part in path.split('/') if part.startswith('{')]
    return [{'name': name, 'in': 'path', 'required': True,
             'schema': _PATH_SCHEMAS.get((path, name), _PATH_UUID)}
            for name in names]


@functools.cache
def document() -> dict:
    paths: dict = {}
    for (path, method), operation in OPERATIONS.items():
        item = paths.setdefault(path, {})
        if _path_parameters(path):
            item['parameters'] = _path_parameters(path)
        item[method] = operation
    return {
        'openapi': '3.1.0',
        'info': {'title': 'Accelerator API', 'version': str(
            microversion.MAX_VERSION)},
        'paths': paths,
        'components': {
            'securitySchemes': {'token': {
                'type': 'apiKey', 'in': 'header', 'name': 'X-Auth-Token'}},
            'schemas': {'Error': {
                'type': 'object',
                'example': errors.body(409, 'Conflict', '...',
                                       errors.ATTACH_CONFLICT, 'req-...'),
            }, 'Attachment': ATTACHMENT},
        },
        'security': [{'token': []}],
    }
