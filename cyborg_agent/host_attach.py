"""Host attachments: bind a unit to a host driver (vfio-pci) through sysfs.

The driver is the one the attach request names, else the first
``[agent] host_attach_rule`` that matches the unit, else
``[agent] host_attach_driver``; it must be one of the allowed drivers
(:mod:`cyborg_agent.host_drivers`).

Attach: ``<dev>/driver/unbind`` <- address (when bound), ``<dev>/driver_override``
<- driver, ``bus/pci/drivers_probe`` <- address. Detach restores the unit:
``driver_override`` <- what it held before (cleared when nothing), unbind,
``drivers_probe``, so the kernel binds the original driver again. This module
only reads sysfs; the writes are entry points of the privileged daemon
(:mod:`cyborg_agent.privileged.pci`), which the agent, running as its own
user, cannot make itself.

The original driver is written to the journal before the first write, so an
agent killed half-way restores the unit after a restart. The journal also
makes a repeated attach a no-op: a real kernel moves the ``driver`` link, a
tree built for tests does not, so the link cannot tell "already done".
"""
import os
import pathlib

from oslo_config import cfg

from cyborg_agent import host_drivers
from cyborg_agent.attach_errors import AttachFailed
from cyborg_agent.attach_errors import NotSettled
from cyborg_agent.attach_errors import privileged_call
from cyborg_agent.discovery import sysfs
from cyborg_agent.journal import Journal
from cyborg_placement import crash_points

#: What ``driver_override`` reads when no override is set.
NO_OVERRIDE = '(null)'


class HostBinder:
    """Binds units of one sysfs tree to host drivers, and restores them."""

    def __init__(self, sysfs_root: str | os.PathLike, journal: Journal,
                 default_driver: str = 'vfio-pci',
                 rules: list[host_drivers.DriverRule] | None = None,
                 allowed_drivers: frozenset[str] | None = None,
                 entry_points='pci') -> None:
        self.bus = pathlib.Path(sysfs_root) / 'bus' / 'pci'
        self.journal = journal
        self.default_driver = default_driver
        self.rules = rules or []
        self.allowed_drivers = allowed_drivers or frozenset(
            [default_driver, *(rule.driver for rule in self.rules)])
        self.entry_points = entry_points

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, journal: Journal,
                  entry_points='pci') -> 'HostBinder':
        return cls(conf.agent.sysfs_root, journal,
                   conf.agent.host_attach_driver,
                   host_drivers.parse_rules(conf),
                   host_drivers.allowed(conf), entry_points)

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
            if host_drivers.bad_driver_name(requested):
                raise AttachFailed(f'{requested!r} is not a kernel driver '
                                   'name.')
            self._check_allowed(requested, 'the attach request names it')
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
        fresh = record is None
        if fresh:
            record = self._record(address, device, requested_driver)
        driver = record['driver']
        if not (self.bus / 'drivers' / driver).is_dir():
            raise AttachFailed(
                f'Driver {driver} is not loaded on this host (no '
                f'{self.bus / "drivers" / driver}); load its module first.')
        self.journal.put(uuid, record)
        steps = [('unbind', address)] if bound_driver(device) else []
        steps += [('set_driver_override', address, driver),
                  ('probe', address)]
        for index, step in enumerate(steps):
            try:
                privileged_call(self.entry_points, *step)
            except AttachFailed:
                if fresh and index == 0:  # the host is as it was
                    self.journal.remove(uuid)
                raise
        self.journal.put(uuid, {**record, 'done': True})
        return True

    def _record(self, address: str, device: pathlib.Path,
                requested_driver: str | None) -> dict:
        """What the journal keeps to undo the attach; refused before any
        change when the restore would need a driver outside the set."""
        override = _read(device / 'driver_override')
        if override and override != NO_OVERRIDE:
            self._check_allowed(override, 'a detach must restore it as the '
                                'unit\'s driver_override')
        return {'kind': 'host', 'address': address,
                'driver': self.driver_for(address, device, requested_driver),
                'original_driver': bound_driver(device),
                'original_override': override}

    def _check_allowed(self, driver: str, why: str) -> None:
        if driver not in self.allowed_drivers:
            raise AttachFailed(
                f'Driver {driver} is not allowed for host attachments on '
                f'this host ({why}); allowed: '
                f'{", ".join(sorted(self.allowed_drivers))}, see [agent] '
                'host_attach_allowed_drivers.')

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
        if original == NO_OVERRIDE:
            privileged_call(self.entry_points, 'clear_driver_override',
                            address)
        else:
            privileged_call(self.entry_points, 'set_driver_override',
                            address, original)
        if bound_driver(device):
            privileged_call(self.entry_points, 'unbind', address)
        crash_points.reached('during_detach')
        privileged_call(self.entry_points, 'probe', address)


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
