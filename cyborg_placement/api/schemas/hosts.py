"""``/hosts/{host}``: the agent's device report and the reconciler's feed."""
from cyborg_placement import vocabulary
from cyborg_placement.api.schemas import common

MAX_UNITS = 4096
MAX_CHANGES = 1000

#: A host in a path: one path segment.
HOST = {**common.HOST, 'pattern': '^[^/]+$'}
#: The units a host reports are named "<host>:<PCI address>" (at most 255
#: characters, as every accelerator name).
REPORTING_HOST = {**HOST, 'maxLength': 255 - len(':0000:00:00.0')}

#: GET /hosts/{host}/attachments; revisions are 32-bit columns.
FEED_QUERY = {
    'changes_since': {'type': 'integer', 'minimum': 0,
                      'maximum': common.INT32_MAX},
    'limit': {'type': 'integer', 'minimum': 1, 'maximum': MAX_CHANGES},
}

UNIT = {
    'type': 'object',
    'properties': {
        'pci_address': common.PCI_ADDRESS,
        'vendor_id': common.HEX4,
        'product_id': common.HEX4,
        'device_type': {'type': 'string', 'enum': list(vocabulary.DEVICE_TYPES)},
        'pool_provider_uuid': common.UUID,
        'resource_class': common.RESOURCE_CLASS,
        'numa_node': {'type': ['integer', 'null'], 'minimum': 0,
                      'maximum': common.INT32_MAX},
        # The CPU socket of numa_node; absent from older agents.
        'socket': {'type': ['integer', 'null'], 'minimum': 0,
                   'maximum': common.INT32_MAX},
        'driver': {'type': ['string', 'null'], 'maxLength': 255},
        # What the agent's health checks found; absent: healthy.
        'health': {'type': 'string', 'enum': ['healthy', 'unhealthy']},
        'health_reason': {'type': ['string', 'null'], 'maxLength': 255},
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
