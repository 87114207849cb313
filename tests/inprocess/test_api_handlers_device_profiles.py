"""``/v2/device_profiles``: create, list (Nova's ``?name=``), show by uuid
and by name (2.2), delete; bad input, conflicts and policy."""
import json

import pytest

from tests.inprocess.scenario import code
from tests.inprocess.scenario import v2

GROUP = {'resources:PGPU': '1',
         'trait:CUSTOM_ACCEL_PRODUCT_10DE_2330': 'required',
         'accel:function': 'render'}


@pytest.fixture
def admin2(admin):
    return v2(admin)


def _create(client, name='gpu-small', groups=(GROUP,), **more):
    return client.post('/v2/device_profiles',
                       json=[{'name': name, 'groups': list(groups), **more}])


def test_a_profile_made_is_what_nova_reads_by_name(admin2, caller):
    made = _create(admin2, description='one GPU')
    assert made.status_code == 201, made.json
    assert made.headers['Location'].endswith(
        f'/v2/device_profiles/{made.json["uuid"]}')
    assert (made.json['name'], made.json['groups'],
            made.json['description']) == ('gpu-small', [GROUP], 'one GPU')
    _create(admin2, name='gpu-big', groups=[{'resources:PGPU': '2'}])

    nova = v2(caller(token='user', roles='member', project_id='p1'),
              version=None)
    found = nova.get('/v2/device_profiles?name=gpu-small')
    assert found.status_code == 200
    assert found.json == {'device_profiles': [made.json]}
    assert found.headers['OpenStack-API-Version'] == 'accelerator 2.0'
    everything = nova.get('/v2/device_profiles').json['device_profiles']
    assert [p['name'] for p in everything] == ['gpu-small', 'gpu-big']
    assert nova.get('/v2/device_profiles?name=none').json == {
        'device_profiles': []}
    several = nova.get('/v2/device_profiles?name=gpu-big,none,gpu-small')
    assert [p['name'] for p in several.json['device_profiles']] == [
        'gpu-small', 'gpu-big']


def test_show_by_uuid_and_by_name_from_2_2(admin2, caller):
    made = _create(admin2).json
    # Wrapped in its key, as Cyborg shows one profile (and only this one).
    assert admin2.get(f'/v2/device_profiles/{made["uuid"]}').json == {
        'device_profile': made}
    assert admin2.get('/v2/device_profiles/gpu-small').json == {
        'device_profile': made}
    older = v2(caller(), version='2.1').get('/v2/device_profiles/gpu-small')
    # As Cyborg: before 2.2 a name is a uuid no profile has.
    assert (older.status_code, code(older)) == (404, 'device_profile.not_found')
    assert 'from microversion 2.2' in older.json['errors'][0]['detail']
    missing = admin2.get('/v2/device_profiles/no-such')
    assert (missing.status_code, code(missing)) == (
        404, 'device_profile.not_found')


def test_a_taken_name_is_409(admin2):
    assert _create(admin2).status_code == 201
    again = _create(admin2)
    assert (again.status_code, code(again)) == (
        409, 'device_profile.duplicate_name')
    detail = again.json['errors'][0]['detail']
    assert 'gpu-small' in detail
    # Beside ours, Cyborg's error field, where openstacksdk reads it.
    assert json.loads(again.json['error_message'])['faultstring'] == detail


@pytest.mark.parametrize('body, why', [
    ({'name': 'x', 'groups': [GROUP]}, 'is not of type'),
    ([], 'should be non-empty'),
    ([{'name': 'a b', 'groups': [GROUP]}], "does not match"),
    ([{'name': 'x', 'groups': []}], 'should be non-empty'),
    ([{'name': 'x', 'groups': [{'resources:PGPU': 'one'}]}],
     'does not match'),
    ([{'name': 'x', 'groups': [{'trait:HW_CPU_X86_AVX': 'required'}]}],
     'trait:HW_CPU_X86_AVX'),
    ([{'name': 'x', 'groups': [{'resources:PGPU': '1',
                                'trait:CUSTOM_X': 'preferred'}]}],
     "is not one of"),
    ([{'name': 'x', 'groups': [{'hw:cpu_policy': 'dedicated'}]}],
     'hw:cpu_policy'),
    ([{'name': 'x', 'groups': [{'accel:bitstream': 'b'}]}], 'asks for no unit'),
    ([{'name': 'x', 'groups': [GROUP], 'extra': 1}], 'extra'),
])
def test_bad_profiles_are_400_with_the_reason(admin2, body, why):
    answer = admin2.post('/v2/device_profiles', json=body)
    assert answer.status_code == 400, answer.json
    assert why in answer.json['errors'][0]['detail']
    assert admin2.get('/v2/device_profiles').json == {'device_profiles': []}


def test_delete_and_policy(admin2, caller):
    made = _create(admin2).json
    member = v2(caller(token='user', roles='member', project_id='p1'))
    assert _create(member, name='mine').status_code == 403
    assert member.delete(f'/v2/device_profiles/{made["uuid"]}'
                         ).status_code == 403
    reader = v2(caller(token='r', roles='reader', project_id='p2'))
    assert reader.get(f'/v2/device_profiles/{made["uuid"]}').status_code == 200
    assert admin2.delete(f'/v2/device_profiles/{made["uuid"]}'
                         ).status_code == 204
    gone = admin2.delete(f'/v2/device_profiles/{made["uuid"]}')
    assert (gone.status_code, code(gone)) == (404, 'device_profile.not_found')


def test_a_profile_with_requests_cannot_be_deleted(admin2):
    made = _create(admin2).json
    assert admin2.post('/v2/accelerator_requests', json={
        'device_profile_name': 'gpu-small'}).status_code == 201
    refused = admin2.delete(f'/v2/device_profiles/{made["uuid"]}')
    assert (refused.status_code, code(refused)) == (
        409, 'device_profile.in_use')
    assert admin2.get(f'/v2/device_profiles/{made["uuid"]}').status_code == 200
    by_name = admin2.delete('/v2/device_profiles/gpu-small')
    assert (by_name.status_code, code(by_name)) == (
        409, 'device_profile.in_use')


def test_delete_by_name_without_a_microversion(admin2, caller):
    """Cyborg deletes by name at 2.0, which is what its clients send."""
    _create(admin2)
    plain = v2(caller(), version=None)
    assert plain.delete('/v2/device_profiles/gpu-small').status_code == 204
    assert admin2.get('/v2/device_profiles').json == {'device_profiles': []}
    gone = plain.delete('/v2/device_profiles/gpu-small')
    assert (gone.status_code, code(gone)) == (404, 'device_profile.not_found')


def test_delete_several_is_all_or_none(admin2):
    one = _create(admin2, name='one').json
    _create(admin2, name='two')
    _create(admin2, name='three')
    missing = admin2.delete('/v2/device_profiles?value=one,no-such')
    assert (missing.status_code, code(missing)) == (
        404, 'device_profile.not_found')
    assert 'no-such' in missing.json['errors'][0]['detail']
    assert len(admin2.get('/v2/device_profiles').json['device_profiles']) == 3

    assert admin2.delete(f'/v2/device_profiles?value={one["uuid"]},two'
                         ).status_code == 204
    assert admin2.delete('/v2/device_profiles/three').status_code == 204
    assert admin2.get('/v2/device_profiles').json == {'device_profiles': []}


@pytest.mark.parametrize('path', [
    '/v2/device_profiles/', '/v2/device_profiles', '/v2/device_profiles?value=',
    '/v2/device_profiles?value=a,,b', '/v2/device_profiles/a%20b'])
def test_a_delete_naming_nothing_is_400(admin2, path):
    _create(admin2)
    refused = admin2.delete(path)
    assert refused.status_code == 400, refused.json
    assert len(admin2.get('/v2/device_profiles').json['device_profiles']) == 1


def test_where_cyborg_answers_500_we_answer_4xx(admin2):
    """Cyborg's own tests expect a server fault for these three; a client
    error is the right answer (the tempest run records them as expected
    failures, tests/functional/test_cyborg_tempest.py)."""
    made = _create(admin2).json
    empty = _create(admin2, name='')
    assert (empty.status_code, code(empty)) == (400, 'api.invalid_input')
    too_long = _create(admin2, name='x' * 256)
    assert (too_long.status_code, code(too_long)) == (400, 'api.invalid_input')
    taken_uuid = _create(admin2, name='new-fpga', uuid=made['uuid'])
    assert (taken_uuid.status_code, code(taken_uuid)) == (
        409, 'device_profile.duplicate_name')
    assert made['uuid'] in taken_uuid.json['errors'][0]['detail']
    assert admin2.get('/v2/device_profiles').json == {
        'device_profiles': [made]}
