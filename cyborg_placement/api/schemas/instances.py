"""Bodies and query parameters of ``/instances/{instance_uuid}/bindings``."""
from cyborg_placement.api.schemas import common

#: PUT: the host whose pools to follow the allocation on (the accelerators'
#: ``host``: the agent's host name).
BIND = {
    'type': 'object',
    'properties': {'host': common.HOST},
    'required': ['host'],
    'additionalProperties': False,
}

#: DELETE: release on this host only.
RELEASE_QUERY = {'host': common.HOST}
