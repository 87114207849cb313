"""The vGPU entry points make and delete vGPUs only as the driver allows,
with narrow arguments: a VF of the tree, a type id it lists, a UUID. They
run here as in the daemon (``privileged_here``), on an H200 and an A100
tree whose vGPU manager is the harness's stand-in."""
import os
import uuid

import pytest

from cyborg_agent.privileged import Refused
from cyborg_agent.privileged import vgpu
from tools.harness import catalog
from tools.harness import vgpu_manager

H200 = '0000:41:00.0'
VF0, VF1 = '0000:41:01.0', '0000:41:01.1'
A100 = '0000:81:00.0'
MVF0, MVF1 = '0000:81:01.0', '0000:81:01.1'


@pytest.fixture
def host(sysfs, privileged_here):
    gpus = [catalog.nvidia_h200_vgpu(H200, vfs=2),
            catalog.nvidia_a100_mdev(A100, vfs=2)]
    sysfs.add_all(gpus)
    privileged_here(sysfs.root)
    with vgpu_manager.VgpuManager(sysfs, gpus) as manager:
        yield sysfs, manager


def _current(sysfs, vf):
    return (sysfs.device_dir(vf) / 'nvidia' / 'current_vgpu_type'
            ).read_text().strip()


def test_set_and_clear_a_vgpu_type(host):
    sysfs, manager = host
    assert vgpu.set_vgpu_type(VF0, '1414') is True
    assert vgpu.set_vgpu_type(VF0, '1414') is False  # already there
    manager.settle()
    assert _current(sysfs, VF0) == '1414'
    with pytest.raises(Refused, match='holds a vGPU of type 1414'):
        vgpu.set_vgpu_type(VF0, '1428')
    # one type per GPU: the other VF no longer lists the whole card
    with pytest.raises(Refused, match='lists 1414 '):
        vgpu.set_vgpu_type(VF1, '1428')
    assert _current(sysfs, VF1) == '0'
    assert vgpu.clear_vgpu_type(VF0) is True
    assert vgpu.clear_vgpu_type(VF0) is False  # gone already
    manager.settle()
    assert _current(sysfs, VF0) == '0'
    vgpu.set_vgpu_type(VF1, '1428')
    manager.settle()
    assert _current(sysfs, VF1) == '1428'


@pytest.mark.parametrize('type_id', ['0', '01414', '14 14', '../1414', '',
                                     1414, None, '1414\n'])
def test_a_bad_type_id_is_refused(host, type_id):
    with pytest.raises(Refused, match='is not a vGPU type id'):
        vgpu.set_vgpu_type(VF0, type_id)


def test_a_function_without_vgpu_files_is_refused(host):
    with pytest.raises(Refused, match='not a VF of a GPU in vGPU mode'):
        vgpu.set_vgpu_type(H200, '1414')
    with pytest.raises(Refused, match='is not a PCI address'):
        vgpu.clear_vgpu_type('../0000:41:01.0')


def test_create_and_remove_an_mdev(host):
    sysfs, manager = host
    made = str(uuid.uuid4())
    assert vgpu.create_mdev(MVF0, 'nvidia-468', made) is True
    assert vgpu.create_mdev(MVF0, 'nvidia-468', made) is False  # there
    mdev = sysfs.root / 'bus' / 'mdev' / 'devices' / made
    assert mdev.resolve().parent.name == MVF0
    with pytest.raises(Refused, match='exists on another device'):
        vgpu.create_mdev(MVF1, 'nvidia-468', made)
    manager.settle()
    with pytest.raises(Refused, match='available_instances is 0'):
        vgpu.create_mdev(MVF1, 'nvidia-469', str(uuid.uuid4()))
    assert vgpu.remove_mdev(made) is True
    manager.settle()
    assert not os.path.exists(mdev)
    assert vgpu.remove_mdev(made) is False  # gone already


@pytest.mark.parametrize('mdev_type, message', [
    ('../nvidia-468', 'not an mdev type name'),
    ('nvidia-468/create', 'not an mdev type name'),
    ('nvidia-999', 'has no mdev type nvidia-999'),
])
def test_a_bad_mdev_type_is_refused(host, mdev_type, message):
    with pytest.raises(Refused, match=message):
        vgpu.create_mdev(MVF0, mdev_type, str(uuid.uuid4()))


@pytest.mark.parametrize('value', [
    'x', '../../etc', '9B2C4A1E-3F5D-4C8B-A6E7-0D1F2B3C4D5E', None])
def test_a_bad_uuid_is_refused(host, value):
    with pytest.raises(Refused, match='is not a UUID'):
        vgpu.remove_mdev(value)
    with pytest.raises(Refused, match='is not a UUID'):
        vgpu.create_mdev(MVF0, 'nvidia-468', value)
