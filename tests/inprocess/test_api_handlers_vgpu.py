"""vGPU units in the device report and in what users see of them."""
import json

import pytest

from tests.inprocess import scenario
from tests.inprocess.scenario import code
from tests.inprocess.scenario import v2
from tools.harness.api_server import make_host

HOST = scenario.HOST


@pytest.fixture
def host(placement):
    return scenario.vgpu_host(placement, HOST)


def _report(service, units):
    return service.put(f'/hosts/{HOST}/accelerators',
                       json={'accelerators': units})


def test_units_show_their_profile_parent_and_mdev(admin, service, host,
                                                  caller):
    reported = _report(service, host['report']['accelerators'])
    assert reported.status_code == 200, reported.json
    [first, _] = admin.get('/accelerators').json['accelerator']
    assert {k: first[k] for k in ('name', 'pci_address', 'vgpu_interface',
                                  'vgpu_type', 'vgpu_profile',
                                  'parent_address', 'mdev_uuid')} == {
        'name': f'{HOST}:0000:41:00.4:nvidia-692',
        'pci_address': '0000:41:00.4', 'vgpu_interface': 'mdev',
        'vgpu_type': 'nvidia-692', 'vgpu_profile': 'GRID A100-4C',
        'parent_address': '0000:41:00.0',
        'mdev_uuid': scenario.MDEV_UUIDS[0]}

    # A member of a project that holds nothing sees the profile, not where
    # the unit is: no address, parent, mdev UUID or name.
    member = caller(token='member', roles='member', project_id='p1')
    seen = member.get(f'/accelerators/{first["uuid"]}').json
    assert (seen['vgpu_profile'], seen['vgpu_type']) == (
        'GRID A100-4C', 'nvidia-692')
    assert not {'pci_address', 'parent_address', 'mdev_uuid', 'name',
                'host'} & set(seen)


def test_whole_devices_have_no_vgpu_fields(admin, service, placement):
    made = make_host(placement, HOST)
    _report(service, made['report']['accelerators'])
    [first, _] = admin.get('/accelerators').json['accelerator']
    assert [first[k] for k in ('vgpu_interface', 'vgpu_type', 'vgpu_profile',
                               'parent_address', 'mdev_uuid')] == [None] * 5


def test_one_vf_may_offer_several_profiles(service, host):
    [unit, _] = host['report']['accelerators']
    other = dict(unit, vgpu_type='nvidia-693', vgpu_profile='GRID A100-8C',
                 mdev_uuid='c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e8f')
    answer = _report(service, [unit, other])
    assert answer.status_code == 200, answer.json
    assert [a['name'] for a in answer.json['accelerators']] == [
        f'{HOST}:0000:41:00.4:nvidia-692', f'{HOST}:0000:41:00.4:nvidia-693']
    twice = _report(service, [unit, dict(other, vgpu_type='nvidia-692')])
    assert twice.status_code == 400
    assert '0000:41:00.4 (vgpu_type nvidia-692)' in twice.json['errors'][0][
        'detail']


@pytest.mark.parametrize('change,named', [
    ({'vgpu_profile': None}, 'also needs vgpu_profile'),
    ({'parent_address': None, 'vgpu_type': None},
     'also needs vgpu_type, parent_address'),
    ({'mdev_uuid': None}, 'needs mdev_uuid'),
    ({'vgpu_interface': 'vfio'}, 'mdev_uuid is for mdev'),
    ({'vgpu_interface': 'vfio', 'mdev_uuid': None, 'vgpu_type': 'nvidia-1'},
     "vgpu_type 'nvidia-1' of a vfio vGPU unit is not a type id"),
    ({'resource_class': 'PGPU'}, 'not in PGPU'),
    ({'vgpu_interface': 'sriov'}, "'sriov' is not one of"),
    ({'vgpu_type': 'nvidia/692'}, 'does not match'),
    ({'parent_address': '41:00.0'}, 'does not match'),
    ({'mdev_uuid': 'not-a-uuid'}, "is not a 'uuid'"),
])
def test_vgpu_fields_that_do_not_go_together_are_400(service, host, change,
                                                     named):
    [unit, _] = host['report']['accelerators']
    answer = _report(service, [dict(unit, **change)])
    assert (answer.status_code, code(answer)) == (400, 'api.invalid_input')
    assert named in answer.json['errors'][0]['detail']


def test_a_name_too_long_with_its_type_is_400(service, host):
    long_host = 'h' * 242  # as long as a host's name may be
    answer = service.put(f'/hosts/{long_host}/accelerators',
                         json=host['report'])
    assert answer.status_code == 400
    assert 'longer than 255 characters' in answer.json['errors'][0]['detail']


def test_mdev_uuids_are_unique_in_a_report(service, host):
    [one, two] = host['report']['accelerators']
    answer = _report(service, [one, dict(two, mdev_uuid=one['mdev_uuid'])])
    assert answer.status_code == 400
    assert f'mdev UUIDs reported more than once: {one["mdev_uuid"]}' in \
        answer.json['errors'][0]['detail']


def test_v2_devices_carry_the_profile_deployables_the_name(caller, service,
                                                          host):
    """Cyborg's device has no vGPU fields: its board info carries them;
    a deployable's name (with the type) is all it says."""
    _report(service, host['report']['accelerators'])
    [device, _] = v2(caller()).get('/v2/devices').json['devices']
    assert json.loads(device['std_board_info']) == {
        'product_id': '2330', 'resource_class': 'VGPU',
        'vgpu_profile': 'GRID A100-4C', 'vgpu_type': 'nvidia-692',
        'pci_address': '0000:41:00.4', 'parent_address': '0000:41:00.0'}
    [deployable, _] = v2(caller()).get('/v2/deployables').json['deployables']
    assert deployable['name'] == f'{HOST}:0000:41:00.4:nvidia-692'

    reader = v2(caller(token='r', roles='reader', project_id='p1'))
    [seen, _] = reader.get('/v2/devices').json['devices']
    assert json.loads(seen['std_board_info']) == {
        'product_id': '2330', 'resource_class': 'VGPU',
        'vgpu_profile': 'GRID A100-4C', 'vgpu_type': 'nvidia-692'}
    assert 'name' not in reader.get('/v2/deployables').json['deployables'][0]
