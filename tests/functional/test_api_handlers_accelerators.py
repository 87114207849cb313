"""The accelerator records through real HTTP: discovery of the API, create,
list, show, acc_specs with ETags, and every refusal of bad input."""
import json
import uuid

import pytest
import requests

from tools.harness.api_server import make_host

SPECS = {'remote': 0, 'num': 1, 'device_type': 'CRYPTO',
         'acc_capability': {'num': 2, 'ipsec': {'aes': {'3des': 50}}}}


def test_version_discovery_health_and_openapi_need_no_token(api_server):
    root = requests.get(api_server.url + '/')
    assert root.status_code == 200
    assert root.json()['versions'][0]['max_version'] == '1.0'
    assert root.headers['OpenStack-API-Version'] == 'accelerator 1.0'
    assert requests.get(api_server.url + '/healthcheck').json() == {
        'status': 'ok'}
    described = requests.get(api_server.url + '/openapi.json').json()
    assert '/hosts/{host}/attachments' in described['paths']


def test_a_token_is_required(api_server):
    response = requests.get(api_server.url + '/accelerators')
    assert response.status_code == 401
    assert response.json()['errors'][0]['code'] == 'api.unauthorized'


def test_unsupported_microversion_is_406(admin):
    response = admin.get('/accelerators', headers={
        'OpenStack-API-Version': 'accelerator 9.9'})
    assert response.status_code == 406
    assert 'serves 1.0 to 1.0' in response.json()['errors'][0]['detail']


def test_create_show_and_list(admin, unique_name):
    wanted = str(uuid.uuid4())
    created = admin.post('/accelerators', json={
        'name': unique_name, 'uuid': wanted, 'acc_specs': SPECS})
    assert created.status_code == 201
    assert created.headers['Location'].endswith(f'/accelerators/{wanted}')
    shown = admin.get(f'/accelerators/{wanted}')
    assert shown.status_code == 200
    body = shown.json()
    assert (body['name'], body['acc_specs'], body['attachment']) == (
        unique_name, SPECS, None)
    assert shown.headers['ETag'] == '"1"'
    listed = admin.get('/accelerators', params={'device_type': 'CRYPTO'})
    assert wanted in [a['uuid'] for a in listed.json()['accelerator']]


def test_create_with_uuid_in_path_and_conflicts(admin, unique_name):
    wanted = str(uuid.uuid4())
    assert admin.post(f'/accelerators/{wanted}',
                      json={'name': unique_name}).status_code == 201
    again = admin.post(f'/accelerators/{wanted}', json={'name': 'other'})
    assert again.status_code == 409
    assert again.json()['errors'][0]['code'] == 'accelerator.duplicate_uuid'
    taken = admin.post('/accelerators', json={'name': unique_name})
    assert taken.status_code == 409
    assert taken.json()['errors'][0]['code'] == 'accelerator.duplicate_name'


def test_create_with_the_seed_specs_example_body(admin, unique_name):
    """The spec's example repeats the path's uuid in the body."""
    wanted = uuid.uuid4()
    created = admin.post(f'/accelerators/{wanted}', json={
        'name': unique_name, 'uuid': str(wanted).upper()})
    assert created.status_code == 201
    assert admin.get(f'/accelerators/{wanted}').json()['name'] == unique_name
    other = str(uuid.uuid4())
    refused = admin.post(f'/accelerators/{uuid.uuid4().hex}', json={
        'name': unique_name + '-2', 'uuid': other})
    assert refused.status_code == 400
    detail = refused.json()['errors'][0]['detail']
    assert other in detail and 'not the uuid' in detail
    assert admin.get(f'/accelerators/{other}').status_code == 404


def test_a_body_uuid_is_stored_in_its_canonical_form(admin, unique_name):
    wanted = str(uuid.uuid4())
    created = admin.post('/accelerators', json={'name': unique_name,
                                                'uuid': wanted.upper()})
    assert created.headers['Location'].endswith(f'/accelerators/{wanted}')
    assert admin.get(f'/accelerators/{wanted}').status_code == 200


@pytest.mark.parametrize('body,fragment', [
    ('{"name": "\\udbe8"}', 'lone surrogate'),
    ('{"name": "a\\u0000b"}', 'NUL'),
    ('{"name": "a", "acc_specs": {"acc_capability": {"k": ["\\ud800"]}}}',
     'at /acc_specs/acc_capability/k/0'),
    ('{"name": "a", "acc_specs": {"\\udc00": 1}}', 'Key'),
    ('{"name": "a", "acc_specs": {"num": 2147483648}}', 'maximum'),
    ('{"name": "a", "acc_specs": {"x": NaN}}', 'NaN'),
    ('{"name": "a", "acc_specs": {"x": 1e400}}', 'out of the range'),
    ('{"name": "a", "acc_specs": {"x": ' + '[' * 40 + ']' * 40 + '}}',
     'deeper than 32'),
    ('[' * 100000 + ']' * 100000, 'nested too deeply'),
    ('{"name": "a", "uuid": "8e45a2ea-5364-4b0d-a252-bf8becaa606e}"}',
     'too long'),
])
def test_what_the_database_cannot_store_is_400(admin, body, fragment):
    response = admin.post('/accelerators', data=body,
                          headers={'Content-Type': 'application/json'})
    assert response.status_code == 400
    assert fragment in response.json()['errors'][0]['detail']


@pytest.mark.parametrize('params,fragment', [
    ({'host': 'a\x00b'}, 'NUL'),
    ({'host': 'h' * 256}, 'longer than 255'),
    ({'state': 'x' * 17}, 'longer than 16'),
    ({'device_type': 'x' * 33}, 'longer than 32'),
    ({'marker': 'a\x00'}, 'not a valid marker uuid'),
])
def test_bad_query_parameters_are_400(admin, params, fragment):
    response = admin.get('/accelerators', params=params)
    assert response.status_code == 400
    assert fragment in response.json()['errors'][0]['detail']


def test_names_of_reported_units_are_reserved(api_server, admin, placement,
                                              unique_name):
    """An admin's record can never take the name a host's report needs."""
    name = f'{unique_name}:0000:3b:00.0'
    refused = admin.post('/accelerators', json={'name': name})
    assert refused.status_code == 400
    error = refused.json()['errors'][0]
    assert error['code'] == 'accelerator.reserved_name'
    assert name in error['detail']

    made = make_host(placement, unique_name, units=1)
    service = api_server.client(token='s', roles='service')
    reported = service.put(f'/hosts/{unique_name}/accelerators',
                           json=made['report'])
    assert reported.status_code == 200
    assert [a['name'] for a in reported.json()['accelerators']] == [name]


def test_unknown_accelerator_is_404(admin):
    response = admin.get(f'/accelerators/{uuid.uuid4()}')
    assert response.status_code == 404
    error = response.json()['errors'][0]
    assert error['code'] == 'accelerator.not_found'
    assert error['request_id'].startswith('req-')
    assert admin.put(f'/accelerators/{uuid.uuid4()}/acc_specs',
                     json={'acc_specs': {}}).status_code == 404


def test_specs_update_with_and_without_if_match(admin, unique_name):
    location = admin.post('/accelerators', json={
        'name': unique_name}).headers['Location']
    path = location[location.index('/accelerators'):]
    etag = admin.get(path).headers['ETag']
    first = admin.put(path + '/acc_specs', json={'acc_specs': SPECS},
                      headers={'If-Match': etag})
    assert first.status_code == 200
    assert first.json()['acc_specs'] == SPECS
    assert first.headers['ETag'] != etag
    stale = admin.put(path + '/acc_specs', json={'acc_specs': {'remote': 1}},
                      headers={'If-Match': etag})
    assert stale.status_code == 409
    assert stale.json()['errors'][0]['code'] == 'accelerator.update.conflict'
    assert admin.get(path).json()['acc_specs'] == SPECS
    blind = admin.put(path + '/acc_specs', json={'acc_specs': {'remote': 1}})
    assert blind.status_code == 200
    assert blind.json()['acc_specs'] == {'remote': 1}


@pytest.mark.parametrize('body,headers,fragment', [
    ('{"name": ', {'Content-Type': 'application/json'}, 'Malformed JSON'),
    ('{"name": 5}', {'Content-Type': 'application/json'},
     "5 is not of type 'string'"),
    ('{"name": "a", "colour": "red"}', {'Content-Type': 'application/json'},
     "'colour' was unexpected"),
    ('{"name": "a", "uuid": "nope"}', {'Content-Type': 'application/json'},
     "'nope' is not a 'uuid'"),
    ('name=a', {'Content-Type': 'application/x-www-form-urlencoded'},
     'must be JSON'),
])
def test_bad_bodies_get_400_with_a_message(admin, body, headers, fragment):
    response = admin.post('/accelerators', data=body, headers=headers)
    assert response.status_code == 400
    assert fragment in response.json()['errors'][0]['detail']


def test_huge_body_gets_400_and_nothing_is_created(admin, unique_name):
    body = json.dumps({'name': unique_name,
                       'acc_specs': {'blob': 'x' * 2_000_000}})
    response = admin.post('/accelerators', data=body,
                          headers={'Content-Type': 'application/json'})
    assert response.status_code == 400
    assert response.json()['errors'][0]['code'] == 'api.body_too_large'
    names = [a['name'] for a in admin.get('/accelerators').json()[
        'accelerator']]
    assert unique_name not in names


def test_wrong_method_is_405_with_allow(admin):
    response = admin.request('PATCH', '/accelerators')
    assert response.status_code == 405
    assert set(response.headers['Allow'].replace(' ', '').split(',')) >= {
        'GET', 'POST'}


def test_paging_with_limit_and_marker(admin, unique_name):
    made = []
    for n in range(3):
        location = admin.post('/accelerators', json={
            'name': f'{unique_name}-{n}', 'acc_specs': {
                'device_type': unique_name}}).headers['Location']
        made.append(location.rsplit('/', 1)[1])
    page = admin.get('/accelerators', params={
        'device_type': unique_name, 'limit': 2}).json()['accelerator']
    assert [a['uuid'] for a in page] == made[:2]
    rest = admin.get('/accelerators', params={
        'device_type': unique_name, 'marker': made[1]}).json()['accelerator']
    assert [a['uuid'] for a in rest] == made[2:]
    too_many = admin.get('/accelerators', params={'limit': 1001})
    assert too_many.status_code == 400
    assert admin.get('/accelerators', params={
        'colour': 'red'}).status_code == 400


@pytest.mark.parametrize('roles,create,show', [
    ('reader', 403, 200),
    ('member', 403, 200),
    ('service', 403, 200),
    ('admin', 201, 200),
    ('', 403, 403),
])
def test_roles_for_records(api_server, unique_name, roles, create, show):
    client = api_server.client(token='user', roles=roles, project_id='p1')
    made = api_server.client().post('/accelerators', json={
        'name': unique_name}).headers['Location'].rsplit('/', 1)[1]
    assert client.post('/accelerators', json={
        'name': unique_name + '-2'}).status_code == create
    assert client.get(f'/accelerators/{made}').status_code == show
    assert client.get('/accelerators').status_code == show
    expected_update = 200 if roles == 'admin' else 403
    assert client.put(f'/accelerators/{made}/acc_specs', json={
        'acc_specs': {}}).status_code == expected_update
