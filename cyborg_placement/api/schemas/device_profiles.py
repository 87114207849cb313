"""Bodies and query parameters of ``/v2/device_profiles``."""
from cyborg_placement.api.schemas import common

#: As Cyborg: letters, digits, '-' and '_'.
NAME = {'type': 'string', 'pattern': '^[a-zA-Z0-9-_]+$', 'minLength': 1,
        'maxLength': 255}

#: One Placement request group (Nova's ``device_profile_<i>``): how many
#: units of a resource class, which custom traits are required or
#: forbidden, and ``accel:*`` properties Nova passes on untouched.
GROUP = {
    'type': 'object',
    'patternProperties': {
        '^resources:[A-Z0-9_]{1,255}$': {
            'type': 'string', 'pattern': '^[1-9][0-9]{0,4}$'},
        '^trait:CUSTOM_[A-Z0-9_]{1,248}$': {
            'type': 'string', 'enum': ['required', 'forbidden']},
        '^accel:[A-Za-z0-9_.:-]{1,249}$': {
            'type': 'string', 'maxLength': 255},
    },
    'additionalProperties': False,
    'minProperties': 1,
    'maxProperties': 64,
}

PROFILE = {
    'type': 'object',
    'properties': {
        'name': NAME,
        'groups': {'type': 'array', 'items': GROUP, 'minItems': 1,
                   'maxItems': 16},
        # null: what the CLI sends without --description.
        'description': {'type': ['string', 'null'], 'maxLength': 255},
        'uuid': common.UUID,
    },
    'required': ['name', 'groups'],
    'additionalProperties': False,
}

#: POST: a JSON list of one profile, as Cyborg takes it.
CREATE = {'type': 'array', 'items': PROFILE, 'minItems': 1, 'maxItems': 1}

#: GET: ``?name=`` (Nova's lookup of a flavor's profile; names separated
#: by commas, as Cyborg takes them).
LIST_QUERY = {'name': {'type': 'string', 'minLength': 1, 'maxLength': 255}}

#: A path segment: a uuid, or (from microversion 2.2) a name.
NAME_OR_UUID = {'type': 'string', 'minLength': 1, 'maxLength': 255}

#: DELETE: ``?value=`` or the path: names and uuids separated by commas,
#: as many as fit in a request line (gunicorn's is 4094 bytes).
DELETE_VALUE = {'type': 'string', 'minLength': 1, 'maxLength': 2048,
                'pattern': '^[a-zA-Z0-9-_]{1,255}(,[a-zA-Z0-9-_]{1,255})*$'}

#: DELETE /v2/device_profiles: ``?value=NAME_OR_UUID,...``.
DELETE_QUERY = {'value': DELETE_VALUE}
