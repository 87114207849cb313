"""The vGPU manager stand-in does to the tree what NVIDIA's driver does."""
import uuid

from tools.harness import catalog
from tools.harness import vgpu_manager

H200 = '0000:41:00.0'
A100 = '0000:81:00.0'


def _creatable(sysfs, vf):
    text = (sysfs.device_dir(vf) / 'nvidia' / 'creatable_vgpu_types'
            ).read_text().splitlines()
    assert text[0] == 'ID    : vGPU Name'
    return [line.split(':')[0].strip() for line in text[1:]]


def _current(sysfs, vf):
    return (sysfs.device_dir(vf) / 'nvidia' / 'current_vgpu_type'
            ).read_text().strip()


def _set(sysfs, vf, value):
    (sysfs.device_dir(vf) / 'nvidia' / 'current_vgpu_type').write_text(value)


def test_h200_tree_lists_both_types_on_every_vf(sysfs):
    pf = catalog.nvidia_h200_vgpu(H200, vfs=4)
    sysfs.add(pf)
    for vf in pf.vfs:
        assert _creatable(sysfs, vf.address) == ['1414', '1428']
        assert _current(sysfs, vf.address) == '0'
    assert (sysfs.bus / 'devices' / H200 / 'virtfn3').resolve().name \
        == '0000:41:01.3'


def test_a_created_vgpu_shrinks_what_the_other_vfs_list(sysfs):
    pf = catalog.nvidia_h200_vgpu(H200, vfs=9)
    sysfs.add(pf)
    manager = vgpu_manager.VgpuManager(sysfs, [pf])
    vfs = [vf.address for vf in pf.vfs]
    _set(sysfs, vfs[0], '1414')
    manager.step()
    assert _current(sysfs, vfs[0]) == '1414'
    assert _creatable(sysfs, vfs[0]) == []
    # one type per GPU: the whole-card type is gone from the others
    assert all(_creatable(sysfs, vf) == ['1414'] for vf in vfs[1:])
    for vf in vfs[1:7]:
        _set(sysfs, vf, '1414')
    manager.step()
    # seven 1g.18gb slices: the GPU is full, the two free VFs list nothing
    assert [_current(sysfs, vf) for vf in vfs] == ['1414'] * 7 + ['0', '0']
    assert _creatable(sysfs, vfs[7]) == _creatable(sysfs, vfs[8]) == []
    for vf in vfs[:7]:
        _set(sysfs, vf, '0')
    manager.step()
    assert all(_creatable(sysfs, vf) == ['1414', '1428'] for vf in vfs)


def test_a_write_the_driver_refuses_is_undone(sysfs):
    pf = catalog.nvidia_h200_vgpu(H200, vfs=2)
    sysfs.add(pf)
    manager = vgpu_manager.VgpuManager(sysfs, [pf])
    first, second = (vf.address for vf in pf.vfs)
    _set(sysfs, first, '1428')
    _set(sysfs, second, '1428')  # the whole card, twice
    manager.step()
    assert (_current(sysfs, first), _current(sysfs, second)) == ('1428', '0')
    _set(sysfs, second, '9999')
    _set(sysfs, first, '1414')  # a second vGPU on a VF that holds one
    manager.step()
    assert (_current(sysfs, first), _current(sysfs, second)) == ('1428', '0')


def _type(sysfs, vf, name):
    return sysfs.device_dir(vf) / 'mdev_supported_types' / name


def _available(sysfs, vf, name):
    return int((_type(sysfs, vf, name) / 'available_instances').read_text())


def test_mdev_create_and_remove_on_a100_vfs(sysfs):
    pf = catalog.nvidia_a100_mdev(A100, vfs=12)
    sysfs.add(pf)
    vfs = [vf.address for vf in pf.vfs]
    with vgpu_manager.VgpuManager(sysfs, [pf]) as manager:
        made = str(uuid.uuid4())
        (_type(sysfs, vfs[0], 'nvidia-468') / 'create').write_text(made)
        manager.settle()
        mdev = sysfs.root / 'bus' / 'mdev' / 'devices' / made
        assert mdev.resolve().parent.name == vfs[0]
        assert (mdev / 'mdev_type').resolve().name == 'nvidia-468'
        assert _available(sysfs, vfs[0], 'nvidia-468') == 0
        assert [_available(sysfs, vfs[1], name)
                for name in ('nvidia-468', 'nvidia-469')] == [1, 0]
        for vf in vfs[1:10]:
            (_type(sysfs, vf, 'nvidia-468') / 'create').write_text(
                str(uuid.uuid4()))
        manager.settle()
        assert len(list(mdev.parent.iterdir())) == 10
        # ten A100-4C fill the 40 GB: the two VFs left offer nothing
        assert _available(sysfs, vfs[10], 'nvidia-468') == 0
        (mdev / 'remove').write_text('1')
        manager.settle()
        assert not mdev.exists()
        assert _available(sysfs, vfs[0], 'nvidia-468') == 1
        manager.lose_all()
        assert list(mdev.parent.iterdir()) == []
        assert _available(sysfs, vfs[0], 'nvidia-469') == 1
