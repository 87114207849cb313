"""Vendor and product names from the system's ``pci.ids`` database.

Names are for people reading ``cyborg-agent discover``; nothing decides on them,
so a missing or odd database only means fewer names. Only the vendors asked for
are kept: the whole file holds tens of thousands of entries.
"""
import os

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: Where distributions install the database (Debian/Ubuntu, then Fedora/RHEL).
DEFAULT_PATHS = ('/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids')

Names = dict[str, tuple[str, dict[str, str]]]


def find_database(path: str | None = None) -> str | None:
    """``path`` when given, else the first standard location that exists."""
    candidates = (path,) if path else DEFAULT_PATHS
    return next((c for c in candidates if os.path.isfile(c)), None)


def _parse(lines, vendors: set[str]) -> Names:
    names: Names = {}
    current = None
    for line in lines:
        if line.startswith('C '):
            break  # the device classes section follows the vendors
        if not line.strip() or line.startswith('#'):
            continue
        if not line.startswith('\t'):
            vendor_id, _, name = line.partition(' ')
            vendor_id = vendor_id.lower()
            current = vendor_id if vendor_id in vendors else None
            if current:
                names[current] = (name.strip(), {})
        elif current and not line.startswith('\t\t'):
            product_id, _, name = line.strip().partition(' ')
            names[current][1][product_id.lower()] = name.strip()
    return names


def load(vendors: set[str], path: str | None = None) -> 'PciIds':
    """Names for ``vendors`` (lower-case hex); empty when there is no database."""
    database = find_database(path)
    if database is None:
        LOG.debug('No pci.ids database found (%s): names are left out',
                  path or ', '.join(DEFAULT_PATHS))
        return PciIds({})
    try:
        with open(database, encoding='utf-8', errors='replace') as handle:
            return PciIds(_parse(handle, vendors))
    except OSError as exc:
        LOG.warning('pci.ids: %s: unreadable (%s); names are left out',
                    database, exc.strerror or exc)
        return PciIds({})


class PciIds:
    """Look-ups into the parsed part of the database."""

    def __init__(self, names: Names) -> None:
        self._names = names

    def vendor(self, vendor_id: str) -> str | None:
        entry = self._names.get(vendor_id)
        return entry[0] if entry else None

    def product(self, vendor_id: str, product_id: str) -> str | None:
        entry = self._names.get(vendor_id)
        return entry[1].get(product_id) if entry else None
