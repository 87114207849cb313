"""Query parameters of ``/v2/devices`` (and ``/v2/deployables``)."""
from cyborg_placement.api.schemas import common

#: A type or vendor filter: any text up to the device type column's length;
#: one that no unit can have (``vendor=fake_vendor``, longer than a vendor
#: id) matches nothing.
_FILTER = {'type': 'string', 'minLength': 1, 'maxLength': 32}

#: GET /v2/devices: Cyborg's filters, on the unit's host, device type and
#: vendor id.
LIST_QUERY = {'hostname': common.HOST, 'type': _FILTER, 'vendor': _FILTER}
