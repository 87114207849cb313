"""vGPU mode: a rule names a GPU's profiles; its VFs become one unit per
profile, published as VGPU pools whose offer follows the driver's lists."""
import json

import pytest

from cyborg_agent import discovery
from cyborg_agent import saved_state
from cyborg_agent.discovery import rules
from cyborg_agent.discovery import vgpu
from cyborg_agent.publish import tree
from tests.conftest import make_conf
from tools.harness import catalog
from tools.harness import vgpu_manager

H200 = '0000:41:00.0'
A100 = '0000:81:00.0'
H200_RULE = ('{"product_id": "2335", "vgpu_profiles": '
             '{"NVIDIA H200X-1-18C": 7, "NVIDIA H200X-141C": 1}}')
A100_RULE = ('{"vendor_id": "10de", "product_id": "20f1", "vgpu_profiles": '
             '{"GRID A100-4C": 10}}')
ROOT_UUID = '5b1e6a52-0f3c-4d8e-9a41-0c6f7d1e2b3a'


def _conf(sysfs, tmp_path, *device_rules):
    agent = {'sysfs_root': sysfs.root, 'resource_provider_name': 'host1'}
    if device_rules:
        agent['device_rule'] = '\ndevice_rule = '.join(device_rules)
    return make_conf(tmp_path, {'agent': agent})


def _pools(units, held=frozenset()):
    return {p.name: p for p in tree.build('host1', ROOT_UUID, units,
                                          held=held).values()}


def _offered(pool):
    return pool.total - pool.reserved


@pytest.mark.parametrize('value, message', [
    ('[]', 'non-empty object'),
    ('{}', 'non-empty object'),
    ('{"NVIDIA H200X-1-18C": 0}', 'positive integer or null'),
    ('{"NVIDIA H200X-1-18C": "7"}', 'positive integer or null'),
    ('{" ": 7}', 'cannot be empty'),
])
def test_bad_vgpu_profiles_are_refused(value, message):
    with pytest.raises(rules.InvalidRule, match=message):
        rules.parse_rules([f'{{"product_id": "2335", "vgpu_profiles": '
                           f'{value}}}'])


@pytest.mark.parametrize('extra', ['"resource_class": "CUSTOM_X"',
                                   '"device_type": "AI"',
                                   '"exclude": true'])
def test_vgpu_profiles_do_not_mix_with_another_kind(extra):
    with pytest.raises(rules.InvalidRule, match='cannot be combined'):
        rules.parse_rules([f'{{"product_id": "2335", {extra}, '
                           '"vgpu_profiles": {"NVIDIA H200X-141C": 1}}'])


def test_without_a_rule_the_gpu_stays_whole(sysfs, tmp_path):
    sysfs.add(catalog.nvidia_h100_sxm('0000:18:00.0'))
    sysfs.add(catalog.nvidia_a100_mdev(A100, vfs=2))
    units = discovery.discover_units(_conf(sysfs, tmp_path))
    assert all(u.vgpu_profile is None for u in units)
    assert {u.address for u in units} == {'0000:18:00.0', '0000:81:01.0',
                                          '0000:81:01.1'}


def test_h200_vfs_are_one_unit_per_profile_and_the_pf_none(sysfs, tmp_path):
    sysfs.add(catalog.nvidia_h200_vgpu(H200, vfs=16))
    units = discovery.discover_units(_conf(sysfs, tmp_path, H200_RULE))
    assert H200 not in {u.address for u in units}
    assert len(units) == 32
    assert len({u.key for u in units}) == 32
    unit = next(u for u in units if u.vgpu_type == '1414')
    assert (unit.vgpu_interface, unit.vgpu_profile, unit.parent_address,
            unit.mdev_uuid, unit.vgpu_state) == (
        'vfio', 'NVIDIA H200X-1-18C', H200, None, 'creatable')
    pools = _pools(units)
    assert set(pools) == {'host1_VGPU_10DE_2335_NVIDIA_H200X_1_18C',
                          'host1_VGPU_10DE_2335_NVIDIA_H200X_141C'}
    slices = pools['host1_VGPU_10DE_2335_NVIDIA_H200X_1_18C']
    assert slices.resource_class == 'VGPU'
    assert slices.traits == {
        'OWNER_CYBORG', 'CUSTOM_ACCEL_GPU', 'CUSTOM_ACCEL_VENDOR_10DE',
        'CUSTOM_ACCEL_PRODUCT_10DE_2335', 'CUSTOM_VGPU_NVIDIA_H200X_1_18C'}
    assert slices.rule_traits == frozenset()
    # 16 VFs could hold one, the GPU holds 7 of them: 9 are reserved
    assert (slices.total, slices.reserved) == (16, 9)
    whole = pools['host1_VGPU_10DE_2335_NVIDIA_H200X_141C']
    assert (whole.total, whole.reserved) == (16, 15)


def test_the_offer_follows_what_the_driver_lists(sysfs, tmp_path):
    pfs = [catalog.nvidia_h200_vgpu(H200, vfs=16),
           catalog.nvidia_h200_vgpu('0000:51:00.0', vfs=16)]
    sysfs.add_all(pfs)
    conf = _conf(sysfs, tmp_path, H200_RULE)
    manager = vgpu_manager.VgpuManager(sysfs, pfs)
    names = vgpu.TypeNames()
    slices = 'host1_VGPU_10DE_2335_NVIDIA_H200X_1_18C'
    whole = 'host1_VGPU_10DE_2335_NVIDIA_H200X_141C'

    def offered():
        pools = _pools(discovery.discover_units(conf, names))
        return _offered(pools[slices]), _offered(pools[whole])

    assert offered() == (14, 2)
    first = sysfs.device_dir('0000:41:01.0') / 'nvidia' / 'current_vgpu_type'
    first.write_text('1414')
    manager.step()
    # the first GPU now takes slices only, and one is made
    assert offered() == (14, 1)
    for index in range(1, 7):
        vf = sysfs.device_dir(f'0000:41:01.{index}')
        (vf / 'nvidia' / 'current_vgpu_type').write_text('1414')
    manager.step()
    assert offered() == (14, 1)
    (sysfs.device_dir('0000:51:01.0') / 'nvidia'
     / 'current_vgpu_type').write_text('1428')
    manager.step()
    # seven slices and a whole card: what is made, nothing more
    assert offered() == (7, 1)
    first.write_text('0')
    manager.step()
    assert offered() == (7, 1)
    for index in range(1, 7):
        (sysfs.device_dir(f'0000:41:01.{index}') / 'nvidia'
         / 'current_vgpu_type').write_text('0')
    manager.step()
    assert offered() == (7, 2)


def test_a_bound_unit_not_made_yet_counts_against_the_cap(sysfs, tmp_path):
    sysfs.add(catalog.nvidia_h200_vgpu(H200, vfs=8))
    units = discovery.discover_units(_conf(sysfs, tmp_path, H200_RULE))
    pools = _pools(units, held=frozenset({'0000:41:01.0'}))
    slices = pools['host1_VGPU_10DE_2335_NVIDIA_H200X_1_18C']
    # 8 VFs, cap 7, one bound: 7 can be given, one of them is held
    assert (slices.total, slices.reserved) == (8, 1)


def test_a_full_gpu_keeps_its_units_through_a_restart(sysfs, tmp_path):
    pf = catalog.nvidia_h200_vgpu(H200, vfs=1)
    sysfs.add(pf)
    conf = _conf(sysfs, tmp_path, H200_RULE)
    state = saved_state.StateFile(tmp_path / 'state', 'vgpu-types-host1')
    discovery.discover_units(conf, vgpu.TypeNames(state))
    (sysfs.device_dir('0000:41:01.0') / 'nvidia'
     / 'current_vgpu_type').write_text('1428')
    vgpu_manager.VgpuManager(sysfs, [pf]).step()
    # the one VF holds the whole card and lists nothing
    forgetful = discovery.discover_units(conf)
    assert [u.vgpu_type for u in forgetful] == []
    restarted = vgpu.TypeNames(saved_state.StateFile(tmp_path / 'state',
                                                     'vgpu-types-host1'))
    units = {u.vgpu_type: u.vgpu_state
             for u in discovery.discover_units(conf, restarted)}
    assert units == {'1414': 'blocked', '1428': 'created'}


def test_a100_mdev_units_with_their_own_uuids(sysfs, tmp_path):
    pf = catalog.nvidia_a100_mdev(A100, vfs=12)
    sysfs.add(pf)
    conf = _conf(sysfs, tmp_path, A100_RULE)
    units = discovery.discover_units(conf)
    assert len(units) == 12
    unit = units[0]
    assert (unit.address, unit.vgpu_interface, unit.vgpu_type,
            unit.vgpu_profile, unit.parent_address, unit.vgpu_state) == (
        '0000:81:01.0', 'mdev', 'nvidia-468', 'GRID A100-4C', A100,
        'creatable')
    assert unit.mdev_uuid == vgpu.mdev_uuid('host1', '0000:81:01.0',
                                            'nvidia-468')
    assert len({u.mdev_uuid for u in units}) == 12
    pool = _pools(units)['host1_VGPU_10DE_20F1_GRID_A100_4C']
    assert (pool.total, pool.reserved) == (12, 2)
    manager = vgpu_manager.VgpuManager(sysfs, [pf])
    create = (sysfs.device_dir(unit.address) / 'mdev_supported_types'
              / 'nvidia-468' / 'create')
    create.write_text(unit.mdev_uuid)
    other = (sysfs.device_dir('0000:81:01.1') / 'mdev_supported_types'
             / 'nvidia-468' / 'create')
    other.write_text('0c9d2d6e-3f4a-4b1c-8e2d-5a6b7c8d9e0f')  # not ours
    manager.step()
    states = {u.address: u.vgpu_state
              for u in discovery.discover_units(conf)}
    # ours is made; the VF holding an mdev made by someone else is blocked
    assert states['0000:81:01.0'] == 'created'
    assert states['0000:81:01.1'] == 'blocked'


def test_discover_shows_profile_parent_and_vf(sysfs, tmp_path, capsys):
    from cyborg_agent.cmd import discover
    sysfs.add(catalog.nvidia_h200_vgpu(H200, vfs=2))
    conf = _conf(sysfs, tmp_path, H200_RULE)

    class Command:
        sysfs_root = None
        format = 'json'
    assert discover.run(conf, Command) == 0
    records = {r['address']: r for r in json.loads(capsys.readouterr().out)}
    [first, _] = records[H200]['units'][:2]
    assert {k: first[k] for k in ('address', 'parent_address',
                                  'vgpu_profile', 'vgpu_type',
                                  'vgpu_interface', 'pool')} == {
        'address': '0000:41:01.0', 'parent_address': H200,
        'vgpu_profile': 'NVIDIA H200X-1-18C', 'vgpu_type': '1414',
        'vgpu_interface': 'vfio',
        'pool': 'host1_VGPU_10DE_2335_NVIDIA_H200X_1_18C'}
    Command.format = 'table'
    assert discover.run(conf, Command) == 0
    table = capsys.readouterr().out
    assert ('0000:41:01.1  0000:41:00.0  NVIDIA H200X-1-18C  vfio 1414  '
            'creatable  -     host1_VGPU_10DE_2335_NVIDIA_H200X_1_18C'
            ) in table
