"""The OpenAPI 3.1 description served at ``/openapi.json``.

Request bodies are the JSON Schemas the handlers validate with, so the
description cannot drift from the validation; a test checks that every route
of :mod:`.routes` is described and nothing else.
"""
import functools

from cyborg_placement.api import errors
from cyborg_placement.api import microversion
from cyborg_placement.api.schemas import accelerators
from cyborg_placement.api.schemas import attachments
from cyborg_placement.api.schemas import hosts

_ERROR = {'$ref': '#/components/schemas/Error'}


def _field(kind: str | list, description: str, **more) -> dict:
    return {'type': kind, 'description': description, **more}


#: An attachment as the API shows it (``attachment`` of an accelerator, the
#: reconciler feed, ``PUT /attachments/{uuid}/state``).
ATTACHMENT = {
    'type': 'object',
    'properties': {
        'uuid': _field('string', 'The attachment.', format='uuid'),
        'accelerator_uuid': _field('string', 'The accelerator attached.',
                                   format='uuid'),
        'pci_address': _field('string', "The unit's PCI address."),
        'instance_uuid': _field(['string', 'null'],
                                'The instance, for an instance attachment.'),
        'host': _field(['string', 'null'], 'The host, for a host attachment.'),
        'driver': _field(['string', 'null'],
                         'The host driver a host attach request named.'),
        'project_id': _field(['string', 'null'], 'Who asked.'),
        'user_id': _field(['string', 'null'], 'Who asked.'),
        'state': _field('string', 'Where the attachment is.', enum=[
            'attaching', 'attached', 'detaching', 'attach_failed',
            'detached']),
        'holds_accelerator': _field(
            'boolean', 'True while the attachment holds the unit (attaching, '
            'attached, detaching): nobody else can attach it. False once it '
            'ended (detached, attach_failed).'),
        'reason': _field(['string', 'null'], 'Why an attach failed.'),
        'consumer_uuid': _field(['string', 'null'],
                                'The Placement consumer of the claim.'),
        'claim': _field('string', 'Who made the claim: the API, or an '
                        'allocation it binds to (Nova\'s).',
                        enum=['api', 'existing_allocation']),
        'revision': _field('integer', 'The host revision of its last change.'),
        'created_at': _field('string', 'UTC.', format='date-time'),
        'updated_at': _field(['string', 'null'], 'UTC.', format='date-time'),
    },
}


def _op(summary: str, codes: dict, body: dict | None = None,
        params: tuple = (), public: bool = False) -> dict:
    operation = {
        'summary': summary,
        'responses': {str(code): {
            'description': text,
            **({'content': {'application/json': {'schema': _ERROR}}}
               if code >= 400 else {})} for code, text in codes.items()},
    }
    if body is not None:
        operation['requestBody'] = {
            'required': True,
            'content': {'application/json': {'schema': body}}}
    if params:
        operation['parameters'] = [
            {'name': name, 'in': 'query', 'schema': {'type': kind}}
            for name, kind in params]
    if public:
        operation['security'] = []
    return operation


_AUTH = {400: 'Bad input (message says why).', 401: 'No token.',
         403: 'Not allowed by policy.'}
_ONE = {**_AUTH, 404: 'No such accelerator.'}

OPERATIONS = {
    ('/', 'get'): _op('Version discovery.', {200: 'Versions.'}, public=True),
    ('/healthcheck', 'get'): _op(
        'Health of the API and its database.',
        {200: 'Healthy.', 503: 'Database unreachable.'}, public=True),
    ('/openapi.json', 'get'): _op('This description.',
                                  {200: 'OpenAPI document.'}, public=True),
    ('/accelerators', 'get'): _op(
        'List accelerators; key "accelerator".', {200: 'A page.', **_AUTH},
        params=(('host', 'string'), ('device_type', 'string'),
                ('state', 'string'), ('instance_uuid', 'string'),
                ('limit', 'integer'), ('marker', 'string'))),
    ('/accelerators', 'post'): _op(
        'Create an accelerator record (admin).',
        {201: 'Created; Location header.', **_AUTH, 409: 'Name or uuid taken.'},
        accelerators.CREATE),
    ('/accelerators/{uuid}', 'get'): _op(
        'Show one accelerator and its attachment; ETag header.',
        {200: 'The accelerator.', **_ONE}),
    ('/accelerators/{uuid}', 'post'): _op(
        'Create an accelerator record with this uuid (admin).',
        {201: 'Created; Location header.', **_AUTH, 409: 'Name or uuid taken.'},
        accelerators.CREATE_WITH_UUID),
    ('/accelerators/{uuid}', 'put'): _op(
        'Attach to an instance or a host: claim one unit of the pool in '
        'Placement, then record "attaching". A host attach may name the '
        'host driver ("driver", such as vfio-pci); without it the agent\'s '
        'host_attach_rule / host_attach_driver decide.',
        {200: 'The accelerator; its attachment (instance_uuid or host, '
              'driver, state "attaching").', **_ONE,
         409: 'Attached elsewhere, no free unit, not on that host.',
         503: 'Placement unreachable.'}, accelerators.ATTACH),
    ('/accelerators/{uuid}', 'delete'): _op(
        'Detach: the host detaches, then the claim is released.',
        {204: 'Detaching (or was not attached).', **_ONE,
         409: "Held by an allocation the API did not make (Nova's).",
         503: 'Placement unreachable.'}),
    ('/accelerators/{uuid}/acc_specs', 'put'): _op(
        'Replace acc_specs (admin); optional If-Match.',
        {200: 'Updated; new ETag.', **_ONE,
         409: 'If-Match no longer matches.'}, accelerators.UPDATE_SPECS),
    ('/hosts/{host}/accelerators', 'put'): _op(
        "The agent's device report: the host's full list of units "
        '(service).', {200: "The host's accelerators.", **_AUTH},
        hosts.DEVICE_REPORT),
    ('/hosts/{host}/attachments', 'get'): _op(
        "The host reconciler's feed of attachment changes (service); "
        'answers {"attachments": [...], "revision": N}.',
        {200: 'Changes.', **_AUTH, 503: 'Placement unreachable.'},
        params=(('changes_since', 'integer'), ('limit', 'integer'))),
    ('/attachments/{uuid}/state', 'put'): _op(
        'Report attached, attach_failed (with reason) or detached '
        '(service); a final state releases the claim.',
        {200: 'The attachment.', **_AUTH, 404: 'No such attachment.',
         409: 'Not a valid next state.', 503: 'Placement unreachable.'},
        attachments.ATTACHMENT_STATE),
}


def _path_parameters(path: str) -> list[dict]:
    names = [part[1:-1] for part in path.split('/') if part.startswith('{')]
    return [{'name': name, 'in': 'path', 'required': True,
             'schema': {'type': 'string'}} for name in names]


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
