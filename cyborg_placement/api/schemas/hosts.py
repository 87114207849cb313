"""Body of ``PUT /hosts/{host}/accelerators``: the agent's device report."""
from cyborg_placement import vocabulary
from cyborg_placement.api.schemas import common

MAX_UNITS = 4096

UNIT = {
    'type': 'object',
    'properties': {
        'pci_address': common.PCI_ADDRESS,
        'vendor_id': common.HEX4,
        'product_id': common.HEX4,
        'device_type': {'type': 'string', 'enum': list(vocabulary.DEVICE_TYPES)},
        'pool_provider_uuid': common.UUID,
        'resource_class': common.RESOURCE_CLASS,
        'numa_node': {'type': ['integer', 'null'], 'minimum': 0},
        'driver': {'type': ['string', 'null'], 'maxLength': 255},
    },
    'required': ['pci_address', 'vendor_id', 'product_id', 'device_type',
                 'pool_provider_uuid', 'resource_class'],
    'additionalProperties': False,
}

DEVICE_REPORT = {
    'type': 'object',
    'properties': {
        'accelerators': {'type': 'array', 'items': UNIT,
                         'maxItems': MAX_UNITS},
    },
    'required': ['accelerators'],
    'additionalProperties': False,
}
