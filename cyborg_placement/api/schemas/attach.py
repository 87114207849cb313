"""Body of PUT /accelerators/{uuid} (attach)."""
from cyborg_placement.api.schemas import common

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
