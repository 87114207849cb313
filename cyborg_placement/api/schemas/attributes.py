"""Bodies and query parameters of ``/v2/attributes``."""
from cyborg_placement.api.schemas import common

#: A deployable: Cyborg's integer id (ours: the unit's), or its uuid.
DEPLOYABLE = {'oneOf': [
    {'type': 'integer', 'minimum': 1, 'maximum': common.INT32_MAX},
    common.UUID]}

KEY = {'type': 'string', 'pattern': '^[A-Za-z0-9_.:-]+$', 'minLength': 1,
       'maxLength': 255}

#: A trait attribute's value: a custom trait the agent does not own.
TRAIT = {'type': 'string', 'pattern': '^CUSTOM_(?!ACCEL_)[A-Z0-9_]+$',
         'maxLength': 255}

ATTRIBUTE = {
    'type': 'object',
    'properties': {
        'deployable_id': DEPLOYABLE,
        'key': KEY,
        'value': {'type': 'string', 'minLength': 1, 'maxLength': 255},
    },
    'required': ['deployable_id', 'key', 'value'],
    'additionalProperties': False,
    # A key starting with "trait" names a trait Placement schedules by.
    'if': {'properties': {'key': {'pattern': '^trait'}}},
    'then': {'properties': {'value': TRAIT}},
}

#: POST: Cyborg's body, or openstacksdk's (wrapped in "attribute").
CREATE = {
    'if': {'type': 'object', 'required': ['attribute']},
    'then': {'type': 'object', 'properties': {'attribute': ATTRIBUTE},
             'additionalProperties': False},
    'else': ATTRIBUTE,
}

#: GET: Cyborg's filters.
LIST_QUERY = {'deployable_id': {'type': 'string', 'minLength': 1,
                                'maxLength': 36},
              'key': {'type': 'string', 'minLength': 1, 'maxLength': 255}}
