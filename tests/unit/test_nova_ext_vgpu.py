"""The driver makes a bound vGPU before the guest starts and deletes it when
the instance leaves: through the privileged entry points (run here as the
daemon runs them), on an H200 and an A100 tree with the vGPU manager's
stand-in."""
import pytest

from cyborg_agent.discovery import vgpu as discovery_vgpu
from nova_ext import vgpu
from tools.harness import catalog
from tools.harness import vgpu_manager

VF0, VF1 = '0000:41:01.0', '0000:41:01.1'
MVF = '0000:81:01.0'
MDEV = discovery_vgpu.mdev_uuid('host1', MVF, 'nvidia-468')


@pytest.fixture
def host(sysfs, privileged_here):
    gpus = [catalog.nvidia_h200_vgpu('0000:41:00.0', vfs=2),
            catalog.nvidia_a100_mdev('0000:81:00.0', vfs=1)]
    sysfs.add_all(gpus)
    privileged_here(sysfs.root)
    with vgpu_manager.VgpuManager(sysfs, gpus) as manager:
        yield sysfs, manager


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
    sysfs, manager = host
    records = [_vfio(VF0, '1414'), MDEV_RECORD, WHOLE]
    vgpu.ensure(records)
    manager.settle()
    assert _current(sysfs, VF0) == '1414'
    mdev = sysfs.root / 'bus' / 'mdev' / 'devices' / MDEV
    assert mdev.exists()
    vgpu.ensure(records)  # a hard reboot: there already, left as is
    manager.lose_all()  # the host rebooted
    vgpu.ensure(records)
    manager.settle()
    assert _current(sysfs, VF0) == '1414' and mdev.exists()
    assert vgpu.delete(records) == []
    manager.settle()
    assert _current(sysfs, VF0) == '0' and not mdev.exists()


def test_a_vgpu_the_gpu_cannot_hold_is_not_creatable(host):
    sysfs, manager = host
    vgpu.ensure([_vfio(VF0, '1414')])
    manager.settle()
    with pytest.raises(vgpu.NotCreatable, match='lists 1414'):
        vgpu.ensure([_vfio(VF1, '1428')])
    assert _current(sysfs, VF1) == '0'
