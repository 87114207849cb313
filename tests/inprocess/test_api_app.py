"""What every request gets from the application: authentication,
microversions, request ids and OpenStack error bodies."""
import uuid

from tests.inprocess import scenario
from tests.inprocess.scenario import code
from tools.harness.server_process import free_port


def test_a_token_is_required_outside_the_public_paths(anonymous):
    answer = anonymous.get('/accelerators')
    assert (answer.status_code, code(answer)) == (401, 'api.unauthorized')
    assert answer.headers['WWW-Authenticate'].startswith('Keystone')


def test_errors_are_openstack_bodies_with_the_request_id(admin):
    answer = admin.get('/no/such/path')
    assert answer.status_code == 404
    (error,) = answer.json['errors']
    assert (error['status'], error['title'], error['code']) == (
        404, 'Not Found', 'api.not_found')
    assert error['request_id'] == answer.headers['X-OpenStack-Request-Id']
    assert error['request_id'].startswith('req-')


def test_a_method_not_served_is_405_with_allow(admin):
    answer = admin.patch(f'/accelerators/{uuid.uuid4()}', json={})
    assert (answer.status_code, code(answer)) == (
        405, 'api.method_not_allowed')
    assert set(answer.headers['Allow'].split(', ')) >= {
        'GET', 'POST', 'PUT', 'DELETE'}


def test_microversions_are_negotiated(admin):
    latest = admin.get('/accelerators', headers={
        'OpenStack-API-Version': 'accelerator latest'})
    assert latest.headers['OpenStack-API-Version'] == 'accelerator 1.0'
    assert 'OpenStack-API-Version' in latest.headers['Vary']
    too_new = admin.get('/accelerators', headers={
        'OpenStack-API-Version': 'accelerator 9.0'})
    assert (too_new.status_code, code(too_new)) == (
        406, 'api.version_not_acceptable')
    garbled = admin.get('/accelerators', headers={
        'OpenStack-API-Version': 'accelerator one'})
    assert (garbled.status_code, code(garbled)) == (400, 'api.invalid_input')


def test_placement_unreachable_is_503_and_reads_go_on(
        make_app, api_conf, placement, service):
    gpus = scenario.reported_host(placement, service)
    api_conf.set_override('endpoint', f'http://127.0.0.1:{free_port()}',
                          group='placement')
    away = make_app(api_conf).test_client()
    away.environ_base['HTTP_X_AUTH_TOKEN'] = 'admin'
    answer = away.put(f'/accelerators/{gpus["uuids"][0]}',
                      json={'host': gpus['name']})
    assert (answer.status_code, code(answer)) == (503, 'placement.unavailable')
    assert away.get('/accelerators').status_code == 200
