"""Bodies and query parameters of ``/accelerators``: list, create, replace
acc_specs, attach."""
from cyborg_placement.api.schemas import common

MAX_LIMIT = 1000

#: GET /accelerators: each value is checked against its schema (and as
#: text), as the OpenAPI description says.
LIST_QUERY = {
    'host': common.HOST,
    'device_type': {'type': 'string', 'maxLength': 32},
    'state': {'type': 'string', 'maxLength': 16},
    'health': {'type': 'string', 'enum': ['healthy', 'unhealthy']},
    'instance_uuid': common.UUID,
    'limit': {'type': 'integer', 'minimum': 1, 'maximum': MAX_LIMIT},
    'marker': common.UUID,
}

#: The seed spec's acc_specs; keys it does not name are kept as given (as
#: JSON: their strings are checked as text, their nesting is bounded).
ACC_SPECS = {
    'type': 'object',
    'properties': {
        'remote': {'type': 'integer', 'enum': [0, 1]},
        'num': {'type': 'integer', 'minimum': 1,
                'maximum': common.INT32_MAX},
        'device_type': {'type': 'string', 'maxLength': 32},
        'acc_type': {'type': 'string', 'maxLength': 255},
        'acc_capability': {'type': 'object'},
        'vendor_id': common.HEX4,
        'product_id': common.HEX4,
    },
}

#: POST /accelerators and POST /accelerators/{uuid}; there a ``uuid`` in the
#: body (the seed spec's example has one) must be the path's.
CREATE = {
    'type': 'object',
    'properties': {
        'name': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'uuid': common.UUID,
        'acc_specs': ACC_SPECS,
    },
    'required': ['name'],
    'additionalProperties': False,
}

UPDATE_SPECS = {
    'type': 'object',
    'properties': {'acc_specs': ACC_SPECS},
    'required': ['acc_specs'],
    'additionalProperties': False,
}

#: PUT /accelerators/{uuid} (attach).
ATTACH = {
    'type': 'object',
    'properties': {
        'instance_uuid': common.UUID,
        'host': common.HOST,
        # false: record that the instance's own (Nova's) allocation holds
        # this unit; service only, nothing is claimed.
        'claim': {'type': 'boolean'},
        # The host driver to bind the unit to, before the agent's rules.
        'driver': common.DRIVER,
    },
    'oneOf': [{'required': ['instance_uuid']}, {'required': ['host']}],
    'dependentRequired': {'driver': ['host']},
    'additionalProperties': False,
}
