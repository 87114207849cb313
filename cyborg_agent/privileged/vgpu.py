"""The privileged daemon's entry points for vGPUs: make and delete them.

- ``set_vgpu_type(address, type_id)``: ``<VF>/nvidia/current_vgpu_type`` <-
  a type id the VF lists in its ``creatable_vgpu_types`` now (NVIDIA's
  vendor-specific VFIO); ``clear_vgpu_type(address)`` writes ``0``.
- ``create_mdev(address, mdev_type, uuid)``: ``<VF or GPU>/
  mdev_supported_types/<mdev_type>/create`` <- the UUID, for a type the
  function has; ``remove_mdev(uuid)``: ``bus/mdev/devices/<uuid>/remove``
  <- ``1``.

Each takes a PCI address of the tree (:class:`pci.Tree`'s checks), a type
id of decimal digits or a type directory name of one path component, and a
canonical UUID, never a path. Each is idempotent: the vGPU that is already
there (same type, same UUID) is left as it is, and deleting one that is
gone does nothing, so a caller that lost track (a restart, a retry) asks
again safely; each returns whether it wrote (a vGPU made or deleted, which
changes what the GPU can still make). A VF that holds another vGPU, a type
the VF does not list now, or an mdev past its type's
``available_instances`` are refused before anything is written: the driver
would refuse the write too, and the caller learns why. After a write, the
result is checked (the type reads back, the mdev appears in
``bus/mdev/devices`` within :data:`MDEV_WAIT` seconds).
"""
import os
import re
import time

from cyborg_agent.privileged import pci
from cyborg_agent.privileged import Refused
from cyborg_agent.privileged import sysfs_pctxt
from cyborg_agent.privileged import WriteFailed

_TYPE_ID = re.compile(r'[1-9][0-9]{0,9}')
_MDEV_TYPE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,63}')
_UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                   r'[0-9a-f]{12}')
#: A line of ``creatable_vgpu_types``: ``1414  : NVIDIA H200X-1-18C``.
_CREATABLE = re.compile(r'^\s*(\d+)\s*:')
#: Seconds an mdev may take to appear after its UUID is written to
#: ``create`` (the kernel makes it before the write returns).
MDEV_WAIT = 10.0


class VgpuTree(pci.Tree):
    """The vGPU files of one sysfs tree that the entry points may write."""

    @staticmethod
    def _read(path: str) -> str:
        try:
            with open(path, encoding='ascii') as text:
                return text.read().strip()
        except (OSError, ValueError) as exc:
            raise WriteFailed(f'Reading {path} failed: {exc}.') from None

    @staticmethod
    def _type_id(value) -> str:
        if not isinstance(value, str) or not _TYPE_ID.fullmatch(value):
            raise Refused(f'{value!r} is not a vGPU type id (decimal '
                          'digits, as creatable_vgpu_types lists them).')
        return value

    @staticmethod
    def _uuid(value) -> str:
        if not isinstance(value, str) or not _UUID.fullmatch(value):
            raise Refused(f'{value!r} is not a UUID (lower-case, with '
                          'hyphens).')
        return value

    def _vgpu_file(self, address, name: str) -> str:
        path = self.device_attribute(address, 'nvidia', name)
        if not os.path.isfile(path):
            raise Refused(f'PCI device {address} has no nvidia/{name}: it '
                          'is not a VF of a GPU in vGPU mode.')
        return path

    def set_vgpu_type(self, address, type_id) -> bool:
        """Make the VF's vGPU of ``type_id``, unless it holds it already."""
        type_id = self._type_id(type_id)
        current = self._vgpu_file(address, 'current_vgpu_type')
        holds = self._read(current)
        if holds == type_id:
            return False
        if holds != '0':
            raise Refused(f'VF {address} holds a vGPU of type {holds}; it '
                          f'can hold no other (type {type_id} asked).')
        listed = self._read(self._vgpu_file(address, 'creatable_vgpu_types'))
        ids = [match.group(1) for match in map(_CREATABLE.match,
                                               listed.splitlines()) if match]
        if type_id not in ids:
            raise Refused(f'VF {address} cannot make a vGPU of type '
                          f'{type_id} now: its creatable_vgpu_types lists '
                          f'{", ".join(ids) or "none"} (the GPU holds '
                          'another profile, or as many as it can).')
        self.write(current, type_id)
        if self._read(current) != type_id:
            raise WriteFailed(f'VF {address} holds type '
                              f'{self._read(current)} after {type_id} was '
                              'written.')
        return True

    def clear_vgpu_type(self, address) -> bool:
        """Delete the VF's vGPU, if it holds one."""
        current = self._vgpu_file(address, 'current_vgpu_type')
        if self._read(current) == '0':
            return False
        self.write(current, '0')
        return True

    def _mdev_device(self, uuid: str) -> str | None:
        """The mdev's real directory (under its parent's), or None."""
        link = os.path.join(self.root, 'bus', 'mdev', 'devices', uuid)
        return self.under_root('bus', 'mdev', 'devices', uuid) \
            if os.path.exists(link) else None

    def create_mdev(self, address, mdev_type, uuid) -> bool:
        """Make mdev ``uuid`` of ``mdev_type`` on the function, unless it
        is there already."""
        uuid = self._uuid(uuid)
        if not isinstance(mdev_type, str) or not _MDEV_TYPE.fullmatch(
                mdev_type):
            raise Refused(f'{mdev_type!r} is not an mdev type name.')
        type_dir = self.device_attribute(address, 'mdev_supported_types',
                                         mdev_type)
        if not os.path.isdir(type_dir):
            raise Refused(f'PCI device {address} has no mdev type '
                          f'{mdev_type}.')
        existing = self._mdev_device(uuid)
        if existing:
            if os.path.basename(os.path.dirname(existing)) != address:
                raise Refused(f'mdev {uuid} exists on another device.')
            return False
        available = self._read(os.path.join(type_dir, 'available_instances'))
        if available in ('', '0'):
            raise Refused(f'PCI device {address} cannot make an mdev of '
                          f'type {mdev_type} now (available_instances is '
                          f'{available or "empty"}).')
        self.write(self.device_attribute(address, 'mdev_supported_types',
                                         mdev_type, 'create'), uuid)
        deadline = time.monotonic() + MDEV_WAIT
        while not self._mdev_device(uuid):
            if time.monotonic() > deadline:
                raise WriteFailed(f'mdev {uuid} of type {mdev_type} did not '
                                  f'appear on {address} after its creation.')
            time.sleep(0.05)
        return True

    def remove_mdev(self, uuid) -> bool:
        """Delete mdev ``uuid``, if it is there."""
        if not self._mdev_device(self._uuid(uuid)):
            return False
        self.write(self.under_root('bus', 'mdev', 'devices', uuid, 'remove'),
                   '1')
        return True


# The entry points: the tree is the daemon's own (its configuration).

@sysfs_pctxt.entrypoint
def set_vgpu_type(address: str, type_id: str) -> bool:
    return VgpuTree.from_conf().set_vgpu_type(address, type_id)


@sysfs_pctxt.entrypoint
def clear_vgpu_type(address: str) -> bool:
    return VgpuTree.from_conf().clear_vgpu_type(address)


@sysfs_pctxt.entrypoint
def create_mdev(address: str, mdev_type: str, uuid: str) -> bool:
    return VgpuTree.from_conf().create_mdev(address, mdev_type, uuid)


@sysfs_pctxt.entrypoint
def remove_mdev(uuid: str) -> bool:
    return VgpuTree.from_conf().remove_mdev(uuid)
