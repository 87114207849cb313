"""Which free vGPU units a bind takes first: never one on a GPU holding
vGPUs of another type, and the GPU holding fewest of the type first."""
from cyborg_placement.attach import bindings
from cyborg_placement.db import models


def _unit(id_, parent, vgpu_type='1414'):
    return models.Accelerator(id=id_, pci_address=f'0000:00:0{id_}.0',
                              parent_address=parent, vgpu_type=vgpu_type)


def test_other_types_exclude_a_gpu_and_the_least_held_goes_first():
    free = [_unit(1, 'A'), _unit(2, 'B'), _unit(3, 'C'), _unit(4, 'C')]
    held = [('A', '1428'), ('B', '1414'), ('B', '1414')]
    order = bindings.vgpu_order(held, free)
    assert [u.id for u in order] == [3, 4, 2]


def test_whole_devices_keep_their_order():
    free = [models.Accelerator(id=7), models.Accelerator(id=5)]
    assert [u.id for u in bindings.vgpu_order([('A', '1428')], free)] == [
        7, 5]
