"""vGPUs exist while they are bound: made before the guest starts, deleted
when the instance leaves the host.

A vGPU unit the API binds (``vgpu_interface`` set) names a VF and a type;
the vGPU itself is made on the host by the driver that builds the guest,
in the same call, before the guest XML is defined: NVIDIA's vendor-VFIO
type id goes to the VF's ``current_vgpu_type``, or the unit's mdev is made
with its own UUID. Every guest Nova builds goes through that call (spawn,
hard reboot, power on, rebuild, evacuate, unshelve, migration), so a vGPU
that the host lost (a host reboot) is made again; one that is there is
left as it is. Release deletes it.

The writes need root: they go through the agent's privileged module
(:mod:`cyborg_agent.privileged.vgpu`), whose daemon nova-compute starts
as the agent does (``[privsep_sysfs]`` in nova.conf: ``helper_command``
naming cyborg.conf, where ``[agent] sysfs_root`` is; a root nova-compute
forks it). Its entry points check the type against what the VF lists now,
so a vGPU the GPU cannot hold any more (two boots raced for its last
room) is refused before anything is written: :class:`NotCreatable`, which
the driver turns into a reschedule.
"""
from oslo_log import log as logging

from cyborg_agent import privileged
from cyborg_agent.privileged import vgpu as privileged_vgpu

LOG = logging.getLogger(__name__)

MDEV = 'mdev'


class NotCreatable(Exception):
    """The host cannot make this vGPU now (the driver does not list it)."""


class VgpuError(Exception):
    """Making or deleting a vGPU failed (the privileged daemon's reason)."""


def _vgpus(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get('vgpu_interface')]


def _name(record: dict) -> str:
    return (f"{record.get('vgpu_profile')} ({record['vgpu_interface']} "
            f"{record['vgpu_type']} on {record['pci_address']})")


def ensure(records: list[dict]) -> None:
    """Make each bound vGPU that is not there yet.

    :raises NotCreatable: the VF cannot hold it now.
    :raises VgpuError: the daemon could not make it.
    """
    for record in _vgpus(records):
        try:
            if record['vgpu_interface'] == MDEV:
                privileged_vgpu.create_mdev(record['pci_address'],
                                            record['vgpu_type'],
                                            record['mdev_uuid'])
            else:
                privileged_vgpu.set_vgpu_type(record['pci_address'],
                                              record['vgpu_type'])
        except privileged.Refused as ex:
            raise NotCreatable(f'vGPU {_name(record)}: {ex.reason}') from ex
        except Exception as ex:  # the daemon's failure, or its start's
            raise VgpuError(f'vGPU {_name(record)} could not be made: '
                            f'{ex}') from ex


def delete(records: list[dict]) -> list[str]:
    """Delete each vGPU of ``records``; what could not be deleted (each
    tried, none raised: the instance leaves whatever happens, and the
    agent deletes vGPUs nothing holds)."""
    failed = []
    for record in _vgpus(records):
        try:
            if record['vgpu_interface'] == MDEV:
                privileged_vgpu.remove_mdev(record['mdev_uuid'])
            else:
                privileged_vgpu.clear_vgpu_type(record['pci_address'])
        except Exception as ex:
            failed.append(f'{_name(record)}: {ex}')
    return failed
