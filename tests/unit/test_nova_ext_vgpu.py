"""The driver makes a bound vGPU before the guest starts and deletes it when
the instance leaves: through the agent's own command (``cyborg-agent vgpu``,
a process of its own that forks its privileged daemon, as root does here),
on an H200 and an A100 tree with the vGPU manager's stand-in."""
import sys

import pytest

from cyborg_agent.discovery import vgpu as discovery_vgpu
from nova_ext import vgpu
from tools.harness import catalog
from tools.harness import ini
from tools.harness import vgpu_manager

VF0, VF1 = '0000:41:01.0', '0000:41:01.1'
MVF = '0000:81:01.0'
MDEV = discovery_vgpu.mdev_uuid('host1', MVF, 'nvidia-468')


@pytest.fixture
def host(sysfs, tmp_path):
    gpus = [catalog.nvidia_h200_vgpu('0000:41:00.0', vfs=2),
            catalog.nvidia_a100_mdev('0000:81:00.0', vfs=1)]
    sysfs.add_all(gpus)
    conf = ini.write(tmp_path / 'cyborg.conf', {'agent': {
        'sysfs_root': sysfs.root, 'resource_provider_name': 'host1'}})
    agent = [sys.executable, '-m', 'cyborg_agent.cmd.agent',
             '--config-file', str(conf)]
    with vgpu_manager.VgpuManager(sysfs, gpus) as manager:
        yield sysfs, manager, agent


def _vfio(address, type_id):
    return {'pci_address': address, 'vgpu_interface': 'vfio',
            'vgpu_type': type_id, 'vgpu_profile': 'NVIDIA H200X-1-18C',
            'mdev_uuid': None}


MDEV_RECORD = {'pci_address': MVF, 'vgpu_interface': 'mdev',
               'vgpu_type': 'nvidia-468', 'vgpu_profile': 'GRID A100-4C',
               'mdev_uuid': MDEV}
WHOLE = {'pci_address': '0000:18:00.0', 'vgpu_interface': None}


def _current(sysfs, vf):
    return (sysfs.device_dir(vf) / 'nvidia' / 'current_vgpu_type'
            ).read_text().strip()


def test_made_again_when_lost_and_deleted_on_release(host):
    sysfs, manager, agent = host
    records = [_vfio(VF0, '1414'), MDEV_RECORD, WHOLE]
    vgpu.ensure(records, agent)
    manager.settle()
    assert _current(sysfs, VF0) == '1414'
    mdev = sysfs.root / 'bus' / 'mdev' / 'devices' / MDEV
    assert mdev.exists()
    vgpu.ensure(records, agent)  # a hard reboot: there already, kept
    manager.lose_all()  # the host rebooted
    vgpu.ensure(records, agent)
    manager.settle()
    assert _current(sysfs, VF0) == '1414' and mdev.exists()
    assert vgpu.delete(records, agent) == []
    manager.settle()
    assert _current(sysfs, VF0) == '0' and not mdev.exists()


def test_a_vgpu_the_gpu_cannot_hold_is_not_creatable(host):
    sysfs, manager, agent = host
    vgpu.ensure([_vfio(VF0, '1414')], agent)
    manager.settle()
    with pytest.raises(vgpu.NotCreatable, match='lists 1414'):
        vgpu.ensure([_vfio(VF1, '1428')], agent)
    assert _current(sysfs, VF1) == '0'


def test_a_failing_command_is_a_vgpu_error(host):
    _sysfs, _manager, agent = host
    with pytest.raises(vgpu.VgpuError, match='failed'):
        vgpu.ensure([_vfio(VF0, '1414')], ['/nonexistent/cyborg-agent'])
    failed = vgpu.delete([_vfio(VF0, '1414')], agent[:-1] + ['/nonexistent'])
    assert len(failed) == 1 and 'status' in failed[0]
