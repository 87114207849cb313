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

The writes need root and the agent's configuration, which cannot share
nova-compute's process (nova_ext/conf.py): the driver runs the agent's
``cyborg-agent vgpu make|delete`` (``[accelerator_api] vgpu_command``),
which goes through the agent's privileged module
(:mod:`cyborg_agent.privileged.vgpu`) and its daemon. Its entry points
check the type against what the VF lists now, so a vGPU the GPU cannot
hold any more (two boots raced for its last room) is refused before
anything is written: :class:`NotCreatable`, which the driver turns into a
reschedule.
"""
import subprocess

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

MDEV = 'mdev'
#: ``cyborg-agent vgpu``'s status for a refusal (cyborg_agent/cmd/vgpu.py).
REFUSED = 3
#: Seconds the command may take (it may start the privileged daemon).
TIMEOUT = 120


class NotCreatable(Exception):
    """The host cannot make this vGPU now (the driver does not list it)."""


class VgpuError(Exception):
    """Making or deleting a vGPU failed (the privileged daemon's reason)."""


def _vgpus(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get('vgpu_interface')]


def _name(record: dict) -> str:
    return (f"{record.get('vgpu_profile')} ({record['vgpu_interface']} "
            f"{record['vgpu_type']} on {record['pci_address']})")


def _run(agent: list[str], action: str, record: dict) -> None:
    """``<agent> vgpu <action>`` for the record's vGPU; ``agent`` is
    ``[accelerator_api] vgpu_command``."""
    command = [*agent, 'vgpu', action,
               '--interface', record['vgpu_interface'],
               '--address', record['pci_address'],
               '--type', record['vgpu_type']]
    if record.get('mdev_uuid'):
        command += ['--mdev-uuid', record['mdev_uuid']]
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as ex:
        raise VgpuError(f'vGPU {_name(record)}: {command[0]} failed: '
                        f'{ex}') from ex
    reason = done.stderr.strip().splitlines()[-1:] or ['no reason given']
    if done.returncode == REFUSED:
        raise NotCreatable(f'vGPU {_name(record)}: {reason[0]}')
    if done.returncode:
        raise VgpuError(f'vGPU {_name(record)}: cyborg-agent vgpu {action} '
                        f'failed (status {done.returncode}): {reason[0]}')


def ensure(records: list[dict], agent: list[str]) -> None:
    """Make each bound vGPU that is not there yet.

    :raises NotCreatable: the VF cannot hold it now.
    :raises VgpuError: the agent's command could not make it.
    """
    for record in _vgpus(records):
        _run(agent, 'make', record)


def delete(records: list[dict], agent: list[str]) -> list[str]:
    """Delete each vGPU of ``records``; what could not be deleted (each
    tried, none raised: the instance leaves whatever happens)."""
    failed = []
    for record in _vgpus(records):
        try:
            _run(agent, 'delete', record)
        except (NotCreatable, VgpuError) as ex:
            failed.append(str(ex))
    return failed
