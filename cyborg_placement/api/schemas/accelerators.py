"""Bodies of ``/accelerators``: create, replace acc_specs, attach."""
from cyborg_placement.api.schemas import common

#: The seed spec's acc_specs; keys it does not name are kept as given.
ACC_SPECS = {
    'type': 'object',
    'properties': {
        'remote': {'type': 'integer', 'enum': [0, 1]},
        'num': {'type': 'integer', 'minimum': 1},
        'device_type': {'type': 'string', 'maxLength': 32},
        'acc_type': {'type': 'string', 'maxLength': 255},
        'acc_capability': {'type': 'object'},
        'vendor_id': common.HEX4,
        'product_id': common.HEX4,
    },
}

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

#: POST /accelerators/{uuid}: the uuid is in the path.
CREATE_WITH_UUID = {
    **CREATE,
    'properties': {k: v for k, v in CREATE['properties'].items()
                   if k != 'uuid'},
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
