"""``/v2/attributes``: a unit's ``rc`` and traits as Cyborg's attributes,
those an admin adds, and a trait attribute reaching the pool in Placement."""
import json

from keystoneauth1 import exceptions as ks_exceptions
import pytest

from tests.inprocess import scenario
from tests.inprocess.scenario import code
from tests.inprocess.scenario import v2

DERIVED = {'rc': 'PGPU', 'trait0': 'CUSTOM_ACCEL_GPU',
           'trait1': 'CUSTOM_ACCEL_PRODUCT_10DE_2330',
           'trait2': 'CUSTOM_ACCEL_VENDOR_10DE', 'trait3': 'OWNER_CYBORG'}


@pytest.fixture
def gpus(placement, service):
    return scenario.reported_host(placement, service, units=2)


@pytest.fixture
def admin2(admin):
    return v2(admin)


def _of(client, unit: str) -> dict:
    listed = client.get(f'/v2/attributes?deployable_id={unit}')
    assert listed.status_code == 200, listed.json
    return {a['key']: a['value'] for a in listed.json['attributes']}


def _pool_traits(placement, gpus) -> set:
    return set(placement.get(
        f'/resource_providers/{gpus["pool"]}/traits')['traits'])


def test_rc_and_traits_of_every_unit_are_attributes(caller, gpus):
    reader = v2(caller(token='r', roles='reader', project_id='p1'))
    listed = reader.get('/v2/attributes').json['attributes']
    assert len(listed) == 2 * len(DERIVED)
    first = listed[0]
    assert (first['deployable_uuid'], first['key'], first['value'],
            first['derived']) == (gpus['uuids'][0], 'rc', 'PGPU', True)
    assert reader.get(f'/v2/attributes/{first["uuid"]}').json == first
    # Cyborg's integer deployable id, or the uuid.
    assert _of(reader, first['deployable_id']) == DERIVED
    assert _of(reader, gpus['uuids'][1]) == DERIVED
    by_key = reader.get('/v2/attributes?key=rc').json['attributes']
    assert [a['deployable_uuid'] for a in by_key] == gpus['uuids']
    deployable = reader.get(f'/v2/deployables/{gpus["uuids"][0]}').json
    assert json.loads(deployable['attributes_list']) == [
        {k: v} for k, v in DERIVED.items()]
    # A uuid nobody has is 404; a deployable nobody has lists nothing.
    missing = reader.get('/v2/attributes/6a0e5e0c-3d6f-4c56-9a57-1f0a4b8c2d11')
    assert (missing.status_code, code(missing)) == (404, 'attribute.not_found')
    assert reader.get('/v2/attributes?deployable_id=999').json == {
        'attributes': []}
    for bad in ('one', '²', '-1'):
        refused = reader.get(f'/v2/attributes?deployable_id={bad}')
        assert refused.status_code == 400, bad


def test_an_admin_attribute_is_kept_and_deleted(admin2, caller, gpus):
    unit = gpus['uuids'][0]
    made = admin2.post('/v2/attributes', json={
        'deployable_id': unit, 'key': 'owner', 'value': 'team-a'})
    assert made.status_code == 201, made.json
    assert made.headers['Location'].endswith(f'/v2/attributes/{made.json["uuid"]}')
    assert (made.json['key'], made.json['derived']) == ('owner', False)
    as_float = admin2.post('/v2/attributes', json={
        'deployable_id': float(made.json['deployable_id']), 'key': 'rack',
        'value': 'r1'})
    assert as_float.status_code == 201, as_float.json
    assert admin2.delete(f'/v2/attributes/{as_float.json["uuid"]}'
                         ).status_code == 204
    assert _of(admin2, unit) == {**DERIVED, 'owner': 'team-a'}
    again = admin2.post('/v2/attributes', json={'attribute': {
        'deployable_id': made.json['deployable_id'], 'key': 'owner',
        'value': 'team-b'}})
    assert (again.status_code, code(again)) == (409, 'attribute.duplicate_key')

    member = v2(caller(token='m', roles='member', project_id='p1'))
    assert member.post('/v2/attributes', json={
        'deployable_id': unit, 'key': 'x', 'value': 'y'}).status_code == 403
    assert member.delete(f'/v2/attributes/{made.json["uuid"]}'
                         ).status_code == 403
    assert admin2.delete(f'/v2/attributes/{made.json["uuid"]}'
                         ).status_code == 204
    assert _of(admin2, unit) == DERIVED


def test_derived_attributes_are_the_reports(admin2, gpus):
    rc = admin2.get('/v2/attributes?key=rc').json['attributes'][0]
    refused = admin2.delete(f'/v2/attributes/{rc["uuid"]}')
    assert (refused.status_code, code(refused)) == (409, 'attribute.derived')
    taken = admin2.post('/v2/attributes', json={
        'deployable_id': gpus['uuids'][0], 'key': 'rc', 'value': 'FPGA'})
    assert (taken.status_code, code(taken)) == (409, 'attribute.derived')


@pytest.mark.parametrize('body, why', [
    ({'deployable_id': 1, 'key': 'trait9', 'value': 'HW_GPU_API_CUDA'},
     'does not match'),
    ({'deployable_id': 1, 'key': 'trait9', 'value': 'CUSTOM_ACCEL_GPU'},
     'does not match'),
    ({'deployable_id': 1, 'key': 'a b', 'value': 'x'}, 'does not match'),
    ({'deployable_id': 1, 'key': 'k'}, 'value'),
    ({'attribute': {'deployable_id': 1, 'key': 'k'}}, 'value'),
    ({'attribute': {}, 'key': 'k'}, 'key'),
    ({'deployable_id': 'one', 'key': 'k', 'value': 'v'}, 'deployable_id'),
])
def test_bad_attributes_are_400(admin2, gpus, body, why):
    answer = admin2.post('/v2/attributes', json=body)
    assert answer.status_code == 400, answer.json
    assert why in answer.json['errors'][0]['detail']


def test_an_unknown_deployable_is_404(admin2, gpus):
    answer = admin2.post('/v2/attributes', json={
        'deployable_id': 999, 'key': 'k', 'value': 'v'})
    assert answer.status_code == 404


def test_a_trait_attribute_reaches_the_pool_in_placement(admin2, placement,
                                                          gpus):
    """The trait goes onto the unit's pool (Placement counts pools), and
    leaves it with the last attribute of the pool's units naming it."""
    first, second = gpus['uuids']
    # The agent's own traits on the pool, which stay as they are.
    pool = placement.get(f'/resource_providers/{gpus["pool"]}')
    placement.put('/traits/CUSTOM_ACCEL_GPU')
    placement.put(f'/resource_providers/{gpus["pool"]}/traits', {
        'traits': ['CUSTOM_ACCEL_GPU'],
        'resource_provider_generation': pool['generation']})
    made = [admin2.post('/v2/attributes', json={
        'deployable_id': unit, 'key': 'trait_fast',
        'value': 'CUSTOM_FAST_LINK'}).json for unit in (first, second)]
    assert 'CUSTOM_FAST_LINK' in _pool_traits(placement, gpus)
    assert 'CUSTOM_ACCEL_GPU' in _pool_traits(placement, gpus)
    assert admin2.delete(f'/v2/attributes/{made[0]["uuid"]}'
                         ).status_code == 204
    assert 'CUSTOM_FAST_LINK' in _pool_traits(placement, gpus)
    assert admin2.delete(f'/v2/attributes/{made[1]["uuid"]}'
                         ).status_code == 204
    assert 'CUSTOM_FAST_LINK' not in _pool_traits(placement, gpus)
    assert 'CUSTOM_ACCEL_GPU' in _pool_traits(placement, gpus)


def test_placement_unreachable_keeps_no_attribute(admin2, gpus, app):
    app.extensions['cyborg'].services.placement._adapter = _Unreachable()
    answer = admin2.post('/v2/attributes', json={
        'deployable_id': gpus['uuids'][0], 'key': 'trait_x',
        'value': 'CUSTOM_X'})
    assert answer.status_code == 503, answer.json
    assert _of(admin2, gpus['uuids'][0]) == DERIVED


class _Unreachable:
    """Placement's adapter when nothing answers at its address."""

    def request(self, *args, **kwargs):
        raise ks_exceptions.ConnectFailure('connection refused')
