"""Bodies and query parameters of ``/instances/{instance_uuid}/bindings``."""
from cyborg_placement.api.schemas import common
from cyborg_placement.attach import numa

#: A host NUMA node or socket number; a host has at most a few of each.
_NUMBERS = {
    'type': 'array',
    'items': {'type': 'integer', 'minimum': 0, 'maximum': common.INT32_MAX},
    'uniqueItems': True,
    'maxItems': 1024,
}

#: PUT: the host NUMA nodes the guest's cells are on (Nova fitted them),
#: their sockets, and the guest's NUMA affinity policy for its units.
NUMA = {
    'type': 'object',
    'properties': {
        'policy': {'type': 'string', 'enum': list(numa.POLICIES)},
        'nodes': {**_NUMBERS, 'minItems': 1},
        'sockets': _NUMBERS,
    },
    'required': ['policy', 'nodes'],
    'additionalProperties': False,
}

#: PUT: the host whose pools to follow the allocation on (the accelerators'
#: ``host``: the agent's host name); without ``numa``, any free units.
BIND = {
    'type': 'object',
    'properties': {'host': common.HOST, 'numa': NUMA},
    'required': ['host'],
    'additionalProperties': False,
}

#: DELETE: release on this host only.
RELEASE_QUERY = {'host': common.HOST}
