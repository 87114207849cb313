"""Query parameters of ``/v2/devices`` (and ``/v2/deployables``)."""
from cyborg_placement.api.schemas import common

#: GET /v2/devices: Cyborg's filters, on the unit's host, device type and
#: vendor id.
LIST_QUERY = {'hostname': common.HOST,
              'type': {'type': 'string', 'minLength': 1, 'maxLength': 32},
              'vendor': {'type': 'string', 'minLength': 1, 'maxLength': 8}}
