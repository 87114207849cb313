"""Version discovery, the health check and the OpenAPI description: public,
without a token."""
from cyborg_placement.api import openapi


def test_versions_name_both_microversion_ranges(anonymous):
    """Ours at the root (1.x), the Cyborg-compatible subset under /v2
    (2.x): keystoneauth picks the one a client's major version asks for."""
    answer = anonymous.get('/')
    assert answer.status_code == 200
    ours, cyborg = answer.json['versions']
    assert (ours['id'], ours['status']) == ('v1.0', 'CURRENT')
    assert (ours['min_version'], ours['max_version']) == ('1.0', '1.0')
    assert ours['links'] == [{'rel': 'self', 'href': 'http://localhost/'}]
    assert (cyborg['id'], cyborg['min_version'], cyborg['max_version']) == (
        'v2.0', '2.0', '2.3')
    assert cyborg['links'] == [{'rel': 'self',
                                'href': 'http://localhost/v2/'}]
    assert answer.headers['OpenStack-API-Version'] == 'accelerator 1.0'


def test_healthcheck_is_ok_while_the_database_answers(anonymous):
    answer = anonymous.get('/healthcheck')
    assert (answer.status_code, answer.json) == (200, {'status': 'ok'})


def test_healthcheck_is_503_when_the_database_cannot_be_opened(
        make_app, api_conf, tmp_path):
    api_conf.set_override(
        'connection', f'sqlite:///{tmp_path}/no-such-dir/cyborg.sqlite',
        group='database')
    answer = make_app(api_conf).test_client().get('/healthcheck')
    assert answer.status_code == 503
    assert answer.json['status'] == 'unavailable'


def test_openapi_serves_the_description(anonymous):
    answer = anonymous.get('/openapi.json')
    assert (answer.status_code, answer.json) == (200, openapi.document())


def test_our_own_errors_carry_no_cyborg_field(caller):
    answer = caller().get('/accelerators/not-a-uuid')
    assert answer.status_code == 400
    assert set(answer.json) == {'errors'}
