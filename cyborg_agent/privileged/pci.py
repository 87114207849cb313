"""The privileged daemon's entry points: the sysfs writes of host attachments.

Attach: ``<dev>/driver/unbind`` <- address, ``<dev>/driver_override`` <-
driver, ``bus/pci/drivers_probe`` <- address; detach clears or restores the
override and does the same unbind and probe. Each entry point takes a PCI
address (and a driver name), never a path. The tree and the allowed drivers
come from the daemon's own configuration, read at every call (a forked
daemon shares the agent's, a helper started by sudo reads the files its
command line names, which an operator fixes in sudoers).

Refusals (:class:`~cyborg_agent.privileged.Refused`): an address that is not
``dddd:bb:dd.f`` in lower case or is not a device of the tree, a driver
outside the allowed set, and any attribute whose real path (symlinks
resolved) leaves the tree. A write the kernel refuses is a
:class:`~cyborg_agent.privileged.WriteFailed`. Nothing is ever created:
the attribute must exist.
"""
import os
import re

from oslo_config import cfg

from cyborg_agent import host_drivers
from cyborg_agent.privileged import Refused
from cyborg_agent.privileged import sysfs_pctxt
from cyborg_agent.privileged import WriteFailed
from cyborg_placement import conf as cyborg_conf

#: As the kernel names PCI functions in ``bus/pci/devices``.
_ADDRESS = re.compile(r'[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]')
#: What a write to ``driver_override`` of a newline means: no override.
_CLEAR = '\n'


class Tree:
    """The attributes of one sysfs tree that the entry points may write."""

    def __init__(self, root: str | os.PathLike,
                 allowed_drivers: frozenset[str]) -> None:
        self.root = os.path.realpath(root)
        self.allowed_drivers = allowed_drivers

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts = cyborg_conf.CONF) -> 'Tree':
        return cls(conf.agent.sysfs_root, host_drivers.allowed(conf))

    def device(self, address) -> str:
        """The device's real directory; refused unless the tree has it."""
        if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
            raise Refused(f'{address!r} is not a PCI address (dddd:bb:dd.f).')
        path = self._inside(os.path.join(self.root, 'bus', 'pci', 'devices',
                                         address))
        if not os.path.isdir(path):
            raise Refused(f'PCI device {address} is not in {self.root}.')
        return path

    def device_attribute(self, address, *names: str) -> str:
        return self._inside(os.path.join(self.device(address), *names))

    def under_root(self, *parts: str) -> str:
        """``parts`` joined under the root, symlinks resolved; refused if
        that leads out of it."""
        return self._inside(os.path.join(self.root, *parts))

    def bus_attribute(self, name: str) -> str:
        return self._inside(os.path.join(self.root, 'bus', 'pci', name))

    def driver(self, name) -> str:
        if host_drivers.bad_driver_name(name) \
                or name not in self.allowed_drivers:
            raise Refused(
                f'Driver {name!r} is not allowed on this host (allowed: '
                f'{", ".join(sorted(self.allowed_drivers))}; see [agent] '
                'host_attach_allowed_drivers).')
        return name

    def _inside(self, path: str) -> str:
        resolved = os.path.realpath(path)
        if os.path.commonpath([resolved, self.root]) != self.root:
            raise Refused(f'{path} leads out of the sysfs root {self.root} '
                          f'(to {resolved}).')
        return resolved

    @staticmethod
    def write(path: str, value: str) -> None:
        """One write of the whole value; never creates, never follows a
        last symlink (the path is already resolved)."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW
                         | os.O_CLOEXEC)
            try:
                os.write(fd, value.encode('ascii'))
            finally:
                os.close(fd)
        except OSError as exc:
            raise WriteFailed(f'Writing {value.strip()!r} to {path} failed: '
                              f'{exc.strerror}.') from None

    def unbind(self, address: str) -> None:
        """Take the unit from the driver it is bound to."""
        self.write(self.device_attribute(address, 'driver', 'unbind'),
                   address)

    def set_driver_override(self, address: str, driver: str) -> None:
        """The only driver the kernel may bind the unit to from now on."""
        self.write(self.device_attribute(address, 'driver_override'),
                   self.driver(driver))

    def clear_driver_override(self, address: str) -> None:
        """Let the kernel choose the unit's driver again."""
        self.write(self.device_attribute(address, 'driver_override'), _CLEAR)

    def probe(self, address: str) -> None:
        """Ask the kernel to bind the unit to a driver (its override's)."""
        self.device(address)
        self.write(self.bus_attribute('drivers_probe'), address)


# The entry points: the tree is the daemon's own (its configuration), never
# the caller's.

@sysfs_pctxt.entrypoint
def unbind(address: str) -> None:
    Tree.from_conf().unbind(address)


@sysfs_pctxt.entrypoint
def set_driver_override(address: str, driver: str) -> None:
    Tree.from_conf().set_driver_override(address, driver)


@sysfs_pctxt.entrypoint
def clear_driver_override(address: str) -> None:
    Tree.from_conf().clear_driver_override(address)


@sysfs_pctxt.entrypoint
def probe(address: str) -> None:
    Tree.from_conf().probe(address)
