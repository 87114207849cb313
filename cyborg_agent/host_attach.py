"""Host attachments: bind a unit to a host driver (vfio-pci) through sysfs.

The driver is the one the attach request names, else the first
``[agent] host_attach_rule`` that matches the unit, else
``[agent] host_attach_driver``.

Attach: ``<dev>/driver/unbind`` <- address (when bound), ``<dev>/driver_override``
<- driver, ``bus/pci/drivers_probe`` <- address. Detach restores the unit:
``driver_override`` <- what it held before (``"\\n"`` clears it), unbind,
``drivers_probe``, so the kernel binds the original driver again.

The original driver is written to the journal before the first write, so an
agent killed half-way restores the unit after a restart. The journal also
makes a repeated attach a no-op: a real kernel moves the ``driver`` link, a
tree built for tests does not, so the link cannot tell "already done".
"""
import dataclasses
import json
import os
import pathlib

from oslo_config import cfg

from cyborg_agent.attach_errors import AttachFailed
from cyborg_agent.attach_errors import NotSettled
from cyborg_agent.discovery import rules
from cyborg_agent.discovery import sysfs
from cyborg_agent.journal import Journal
from cyborg_placement import crash_points

#: What ``driver_override`` reads when no override is set.
NO_OVERRIDE = '(null)'
_MATCH_KEYS = ('vendor_id', 'product_id', 'address')


def write_sysfs(path: pathlib.Path, value: str) -> None:
    """One write to a sysfs attribute; a refusal becomes an AttachFailed."""
    try:
        with open(path, 'w') as stream:
            stream.write(value)
    except OSError as exc:
        raise AttachFailed(
            f'Writing {value.strip()!r} to {path} failed: {exc.strerror}.'
        ) from exc


@dataclasses.dataclass(frozen=True)
class DriverRule:
    """``[agent] host_attach_rule``: the host driver for the units it matches."""

    driver: str
    match: rules.PciMatch

    def matches(self, address: str, vendor_id: str, product_id: str) -> bool:
        return self.match.matches(address, vendor_id, product_id)


def bad_driver_name(name) -> bool:
    """A name that cannot be one entry of ``bus/pci/drivers``."""
    return (not isinstance(name, str) or not name.strip() or '/' in name
            or name in ('.', '..'))


def parse_driver_rule(text: str) -> DriverRule:
    """One ``[agent] host_attach_rule`` value; a bad one names itself."""
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise rules.InvalidRule(
            f'host_attach_rule {text!r}: not JSON: {exc}') from None
    if not isinstance(spec, dict) or not isinstance(spec.get('driver'), str):
        raise rules.InvalidRule(
            f'host_attach_rule {text!r}: needs a "driver" name')
    unknown = set(spec) - set(_MATCH_KEYS) - {'driver'}
    if unknown:
        raise rules.InvalidRule(f'host_attach_rule {text!r}: unknown keys '
                                f'{", ".join(sorted(unknown))}')
    if bad_driver_name(spec['driver']):
        raise rules.InvalidRule(f'host_attach_rule {text!r}: bad driver name')
    try:
        match = rules.parse_match(spec, _MATCH_KEYS)
    except ValueError as exc:
        raise rules.InvalidRule(f'host_attach_rule {text!r}: {exc}') from None
    return DriverRule(spec['driver'], match)


class HostBinder:
    """Binds units of one sysfs tree to host drivers, and restores them."""

    def __init__(self, sysfs_root: str | os.PathLike, journal: Journal,
                 default_driver: str = 'vfio-pci',
                 rules: list[DriverRule] | None = None,
                 write=write_sysfs) -> None:
        self.bus = pathlib.Path(sysfs_root) / 'bus' / 'pci'
        self.journal = journal
        self.default_driver = default_driver
        self.rules = rules or []
        self._write = write

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, journal: Journal) -> 'HostBinder':
        return cls(conf.agent.sysfs_root, journal,
                   conf.agent.host_attach_driver,
                   [parse_driver_rule(v) for v in conf.agent.host_attach_rule])

    def device(self, address: str) -> pathlib.Path:
        path = self.bus / 'devices' / address
        if not path.exists():
            raise AttachFailed(f'PCI device {address} is gone from this host '
                               f'(no {path}).')
        return path

    def driver_for(self, address: str, device: pathlib.Path,
                   requested: str | None = None) -> str:
        """The request's driver, else the first matching rule's, else the
        default: the user who asked knows the unit's use best."""
        if requested is not None:
            if bad_driver_name(requested):
                raise AttachFailed(f'{requested!r} is not a kernel driver '
                                   'name.')
            return requested
        vendor_id, product_id = (sysfs.read_hex(os.fspath(device / n), 4) or ''
                                 for n in ('vendor', 'device'))
        for rule in self.rules:
            if rule.matches(address, vendor_id, product_id):
                return rule.driver
        return self.default_driver

    def attach(self, uuid: str, address: str,
               requested_driver: str | None = None) -> bool:
        """Bind the unit to its host driver; False when it already was."""
        record = self.journal.get(uuid)
        if record and record.get('done'):
            return False
        device = self.device(address)
        if record is None:
            record = {'kind': 'host', 'address': address,
                      'driver': self.driver_for(address, device,
                                                requested_driver),
                      'original_driver': bound_driver(device),
                      'original_override': _read(device / 'driver_override')}
        driver = record['driver']
        if not (self.bus / 'drivers' / driver).is_dir():
            raise AttachFailed(
                f'Driver {driver} is not loaded on this host (no '
                f'{self.bus / "drivers" / driver}); load its module first.')
        self.journal.put(uuid, record)
        if bound_driver(device):
            self._write(device / 'driver' / 'unbind', address)
        self._write(device / 'driver_override', driver)
        self._write(self.bus / 'drivers_probe', address)
        self.journal.put(uuid, {**record, 'done': True})
        return True

    def detach(self, uuid: str, address: str) -> bool:
        """Give the unit back to its original driver; False if nothing to do.

        A refused write is :class:`NotSettled`, not final as for an attach:
        the unit is still bound to the host driver, so the journal record
        stays and the next pass tries the restore again.
        """
        record = self.journal.get(uuid)
        if record is None:
            return False
        device = self.bus / 'devices' / address
        if device.exists():
            try:
                self._restore(device, address, record)
            except AttachFailed as exc:
                raise NotSettled(f'Restoring {address} failed: {exc.reason}'
                                 ) from exc
        self.journal.remove(uuid)
        return True

    def _restore(self, device: pathlib.Path, address: str,
                 record: dict) -> None:
        original = record.get('original_override') or NO_OVERRIDE
        self._write(device / 'driver_override',
                    '\n' if original == NO_OVERRIDE else original)
        if bound_driver(device):
            self._write(device / 'driver' / 'unbind', address)
        crash_points.reached('during_detach')
        self._write(self.bus / 'drivers_probe', address)


def bound_driver(device: pathlib.Path) -> str | None:
    try:
        return os.path.basename(os.readlink(device / 'driver'))
    except OSError:
        return None


def _read(path: pathlib.Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
