"""Bodies and query parameters of ``/v2/accelerator_requests``."""
from cyborg_placement.api.schemas import common
from cyborg_placement.api.schemas import device_profiles

#: POST: one ARQ per unit the named profile's groups ask for. Any name
#: that fits the column is looked up: one no profile can have (empty,
#: other characters) is "no such profile" (404), as Cyborg answers.
CREATE = {
    'type': 'object',
    'properties': {'device_profile_name': {
        'type': 'string', 'maxLength': device_profiles.NAME['maxLength']}},
    'required': ['device_profile_name'],
    'additionalProperties': False,
}


def _add(path: str, value: dict) -> dict:
    return {'type': 'object',
            'properties': {'path': {'const': path}, 'op': {'const': 'add'},
                           'value': value},
            'required': ['path', 'op', 'value'],
            'additionalProperties': False}


#: The fields a bind sets; ``/project_id`` (microversion 2.1) is accepted
#: and ignored: an ARQ keeps the project it was made in.
BIND_FIELDS = ('/hostname', '/device_rp_uuid', '/instance_uuid')

#: One RFC 6902 operation of a bind ("add" of all three fields) or an
#: unbind ("remove" of them).
OPERATION = {'oneOf': [
    _add('/hostname', common.HOST),
    _add('/device_rp_uuid', common.UUID),
    _add('/instance_uuid', common.UUID),
    _add('/project_id', {'type': 'string', 'maxLength': 255}),
    {'type': 'object',
     'properties': {'path': {'enum': [*BIND_FIELDS, '/project_id']},
                    'op': {'const': 'remove'}},
     'required': ['path', 'op'], 'additionalProperties': False},
]}

#: PATCH /v2/accelerator_requests/{uuid}: the operations on one ARQ.
PATCH_ONE = {'type': 'array', 'items': OPERATION, 'minItems': 1,
             'maxItems': 8}

#: PATCH /v2/accelerator_requests: ``{arq_uuid: [operation...]}``, Nova's
#: bind of an instance's ARQs.
PATCH = {
    'type': 'object',
    'propertyNames': common.UUID,
    'additionalProperties': PATCH_ONE,
    'minProperties': 1,
    'maxProperties': 256,
}

#: PATCH /v2/accelerator_requests/{uuid}, as openstacksdk sends it: the
#: collection's form, keyed by this one ARQ's uuid.
PATCH_ONE_KEYED = {**PATCH, 'maxProperties': 1}
#: PATCH /v2/accelerator_requests/{uuid}: either form.
PATCH_ITEM = {'anyOf': [PATCH_ONE, PATCH_ONE_KEYED]}

#: GET: ``?instance=`` (Nova's read of an instance's ARQs).
LIST_QUERY = {'instance': common.UUID}

#: At most this many uuids in ``?arqs=`` (64 fit in a request line of
#: gunicorn's 4094 bytes; Nova names the ARQs of one server).
MAX_DELETE = 64

#: DELETE: ``?instance=UUID`` or ``?arqs=u1,u2``.
DELETE_QUERY = {'instance': common.UUID,
                'arqs': {'type': 'string',
                         'pattern': (f'^[0-9a-fA-F-]{{36}}'
                                     f'(,[0-9a-fA-F-]{{36}}){{0,{MAX_DELETE - 1}}}$'),
                         'maxLength': 37 * MAX_DELETE - 1}}
