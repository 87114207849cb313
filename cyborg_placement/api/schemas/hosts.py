"""``/hosts/{host}``: the agent's device report and the reconciler's feed."""
import re

from cyborg_placement import vocabulary
from cyborg_placement.api.schemas import common

MAX_UNITS = 4096
MAX_CHANGES = 1000

#: A host in a path: one path segment.
HOST = {**common.HOST, 'pattern': '^[^/]+$'}
#: An accelerator's name, at most (its column's size).
MAX_NAME = 255
#: The units a host reports are named "<host>:<PCI address>" (at most 255
#: characters, as every accelerator name; a vGPU unit's name adds
#: ":<vgpu_type>", checked with the report).
REPORTING_HOST = {**HOST, 'maxLength': MAX_NAME - len(':0000:00:00.0')}

#: GET /hosts/{host}/attachments; revisions are 32-bit columns.
FEED_QUERY = {
    'changes_since': {'type': 'integer', 'minimum': 0,
                      'maximum': common.INT32_MAX},
    'limit': {'type': 'integer', 'minimum': 1, 'maximum': MAX_CHANGES},
}

#: Nullable (a whole device reports null or nothing) forms of a schema.
def _nullable(schema: dict) -> dict:
    return {**schema, 'type': [schema['type'], 'null']}


#: What is written to create a vGPU: a vendor-VFIO type id (decimal), or an
#: mdev type directory's name ("nvidia-692"): one path component.
VGPU_TYPE = {'type': 'string', 'pattern': '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
             'maxLength': 64}
VFIO_TYPE_ID = '^[1-9][0-9]*$'
#: The fields every vGPU unit reports; ``mdev_uuid`` goes with mdev units.
VGPU_REQUIRED = ('vgpu_interface', 'vgpu_type', 'vgpu_profile',
                 'parent_address')

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
        # A vGPU unit: one profile of one VF (pci_address) of a GPU.
        'vgpu_interface': {'enum': ['vfio', 'mdev', None]},
        'vgpu_type': _nullable(VGPU_TYPE),
        'vgpu_profile': {'type': ['string', 'null'], 'minLength': 1,
                         'maxLength': 255},
        'parent_address': _nullable(common.PCI_ADDRESS),
        'mdev_uuid': _nullable(common.UUID),
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


def vgpu_problem(unit: dict) -> str | None:
    """What is wrong with a unit's vGPU fields, which go together (the
    schema checks each alone); None when nothing is."""
    given = [f for f in (*VGPU_REQUIRED, 'mdev_uuid')
             if unit.get(f) is not None]
    if not given:
        return None
    missing = [f for f in VGPU_REQUIRED if f not in given]
    if missing:
        return (f'a vGPU unit ({", ".join(given)} given) also needs '
                f'{", ".join(missing)}')
    if unit['resource_class'] != 'VGPU':
        return (f'a vGPU unit is counted in a VGPU pool, not in '
                f'{unit["resource_class"]}')
    mdev = unit['vgpu_interface'] == 'mdev'
    if mdev and unit.get('mdev_uuid') is None:
        return 'an mdev vGPU unit needs mdev_uuid'
    if not mdev and unit.get('mdev_uuid') is not None:
        return 'mdev_uuid is for mdev vGPU units, not vfio ones'
    if not mdev and not re.match(VFIO_TYPE_ID, unit['vgpu_type']):
        return (f'vgpu_type {unit["vgpu_type"]!r} of a vfio vGPU unit is not '
                'a type id (decimal, as in creatable_vgpu_types)')
    return None
