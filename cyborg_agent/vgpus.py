"""One vGPU of a bound or attached unit, and the privileged call that
makes or deletes it.

The agent's command for nova-compute (``cyborg-agent vgpu``) and its own
VM attachments (a REST attach of a vGPU unit) make vGPUs the same way:
through the entry points of :mod:`cyborg_agent.privileged.vgpu`, chosen
here by the unit's interface (NVIDIA's vendor-specific VFIO, or mdev).
"""
import dataclasses
import typing

from cyborg_agent.discovery.vgpu import MDEV
from cyborg_agent.discovery.vgpu import VFIO

#: The kernel interfaces a vGPU is made through.
INTERFACES = (VFIO, MDEV)


@dataclasses.dataclass(frozen=True)
class Vgpu:
    """A vGPU on the VF ``address``: a vendor-VFIO type id, or an mdev
    type with the mdev's UUID."""

    interface: str
    type: str
    mdev_uuid: str | None = None

    @classmethod
    def of(cls, record: typing.Mapping) -> 'Vgpu | None':
        """From an attachment view or a journal record (their
        ``vgpu_interface``, ``vgpu_type`` and ``mdev_uuid``); None for a
        whole device."""
        if not record.get('vgpu_interface'):
            return None
        return cls(record['vgpu_interface'], record['vgpu_type'],
                   record.get('mdev_uuid'))

    def fields(self) -> dict:
        """What a journal record keeps of it (read back by :meth:`of`)."""
        return {'vgpu_interface': self.interface, 'vgpu_type': self.type,
                'mdev_uuid': self.mdev_uuid}

    @property
    def hostdev(self) -> dict:
        """What :mod:`nova_ext.libvirt_hostdev` reads of it."""
        return {'vgpu_interface': self.interface, 'mdev_uuid': self.mdev_uuid}


def make_call(vgpu: Vgpu, address: str) -> tuple[str, ...]:
    """The entry point that makes ``vgpu``: its name, then its arguments."""
    if vgpu.interface == MDEV:
        return 'create_mdev', address, vgpu.type, vgpu.mdev_uuid
    return 'set_vgpu_type', address, vgpu.type


def delete_call(vgpu: Vgpu, address: str) -> tuple[str, ...]:
    """The entry point that deletes ``vgpu``: its name, then its
    arguments."""
    if vgpu.interface == MDEV:
        return 'remove_mdev', vgpu.mdev_uuid
    return 'clear_vgpu_type', address
