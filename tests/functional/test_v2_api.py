"""The /v2 subset through a real ``cyborg-api`` (two workers) on SQLite,
PostgreSQL and MariaDB, with the real Placement: Nova's calls in Nova's
order, concurrent binds in one pool, and Keystone tokens as Nova sends them
(the server owner's, and its service user's)."""
import concurrent.futures
import threading
import uuid

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
import openstack
import pytest
import requests

from tests.inprocess import scenario
from tools.harness.api_server import ApiServer
from tools.harness.api_server import make_host

NO_VERSION = None


@pytest.fixture(scope='module', params=['sqlite', 'postgresql', 'mysql'])
def v2_server(request, placement_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f'cyborg-api-v2-{request.param}')
    if request.param == 'sqlite':
        url = f'sqlite:///{workdir}/cyborg.sqlite'
    else:
        url = request.getfixturevalue(f'{request.param}_url')
    server = ApiServer(workdir, url, placement_server.url)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gpus(v2_server, placement, unique_name):
    """A host of two units in a real Placement pool, reported, with VCPUs,
    and a device profile of one unit named after it."""
    host = make_host(placement, unique_name, units=2)
    service = v2_server.client(token='agent', roles='service')
    reported = service.put(f'/hosts/{unique_name}/accelerators',
                           json=host['report'])
    assert reported.status_code == 200, reported.text
    scenario.add_vcpus(placement, host)
    made = v2_server.client(version='accelerator 2.3').post(
        '/v2/device_profiles', json=[{'name': unique_name, 'groups': [
            {'resources:PGPU': '1',
             'trait:CUSTOM_ACCEL_PRODUCT_10DE_2330': 'required'}]}])
    assert made.status_code == 201, made.text
    return dict(host, name=unique_name,
                uuids=[a['uuid'] for a in reported.json()['accelerators']])


def _nova(server, project='p1'):
    return server.client(token='user', roles='member,reader',
                         project_id=project, version=NO_VERSION)


def _bind_patch(gpus, arqs, instance):
    return {arq['uuid']: [
        {'path': '/hostname', 'op': 'add', 'value': gpus['name']},
        {'path': '/device_rp_uuid', 'op': 'add', 'value': gpus['pool']},
        {'path': '/instance_uuid', 'op': 'add', 'value': instance}]
        for arq in arqs}


def _boot(nova, placement, gpus):
    """Nova's build: profile lookup, schedule, create ARQs, bind."""
    profiles = nova.get('/v2/device_profiles',
                        params={'name': gpus['name']}).json()
    assert len(profiles['device_profiles']) == 1
    instance = scenario.schedule(placement, gpus, 1)
    arqs = nova.post('/v2/accelerator_requests',
                     json={'device_profile_name': gpus['name']}).json()['arqs']
    bound = nova.patch('/v2/accelerator_requests',
                       json=_bind_patch(gpus, arqs, instance))
    return instance, bound


def test_nova_boots_reads_and_deletes(v2_server, placement, gpus):
    nova = _nova(v2_server)
    instance, bound = _boot(nova, placement, gpus)
    assert bound.status_code == 200, bound.text
    (arq,) = nova.get('/v2/accelerator_requests',
                      params={'instance': instance}).json()['arqs']
    assert (arq['state'], arq['attach_handle_type']) == ('Bound', 'PCI')
    info = arq['attach_handle_info']
    unit = v2_server.client().get(
        f'/accelerators/{arq["accelerator_uuid"]}').json()
    assert unit['pci_address'] == (f'{info["domain"]}:{info["bus"]}:'
                                   f'{info["device"]}.{info["function"]}')
    assert unit['attachment']['instance_uuid'] == instance
    assert unit['attachment']['claim'] == 'existing_allocation'

    refused = v2_server.client().put(f'/accelerators/{unit["uuid"]}', json={
        'instance_uuid': str(uuid.uuid4())})
    assert refused.status_code == 409

    assert nova.delete('/v2/accelerator_requests',
                       params={'instance': instance}).status_code == 204
    freed = v2_server.client().get(f'/accelerators/{unit["uuid"]}').json()
    assert freed['attachment']['holds_accelerator'] is False


def test_concurrent_boots_get_different_units(v2_server, placement, gpus):
    """Two servers, one unit each of a two-unit pool, bound at the same
    moment through different workers: each gets its own unit."""
    start = threading.Barrier(2)

    def boot(_):
        nova = _nova(v2_server)
        start.wait()
        instance, bound = _boot(nova, placement, gpus)
        assert bound.status_code == 200, bound.text
        return bound.json()['arqs'][0]['accelerator_uuid']

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        units = list(pool.map(boot, range(2)))
    assert sorted(units) == sorted(gpus['uuids'])


def test_a_third_server_finds_no_unit_and_binds_nothing(v2_server, placement,
                                                        gpus):
    nova = _nova(v2_server)
    for _ in range(2):
        assert _boot(nova, placement, gpus)[1].status_code == 200
    arqs = nova.post('/v2/accelerator_requests',
                     json={'device_profile_name': gpus['name']}).json()['arqs']
    instance = scenario.schedule(placement, gpus, 0)
    refused = nova.patch('/v2/accelerator_requests',
                         json=_bind_patch(gpus, arqs, instance))
    assert refused.status_code == 409
    assert refused.json()['errors'][0]['code'] == (
        'accelerator_request.bind.not_enough_units')
    shown = nova.get(f'/v2/accelerator_requests/{arqs[0]["uuid"]}').json()
    assert shown['state'] == 'Initial'


def test_version_documents_for_keystoneauth(v2_server):
    root = requests.get(v2_server.url + '/').json()['versions']
    assert [v['id'] for v in root] == ['v1.0', 'v2.0']
    v2 = requests.get(v2_server.url + '/v2')
    assert v2.status_code == 200
    assert v2.json()['version']['max_version'] == '2.3'
    assert v2.headers['OpenStack-API-Version'] == 'accelerator 2.0'


@pytest.fixture(scope='module')
def keystone_v2(keystone, placement_server, tmp_path_factory):
    """Our API behind keystonemiddleware, in the catalog as ``accelerator``
    at .../v2, as an operator points Nova at it."""
    workdir = tmp_path_factory.mktemp('cyborg-api-v2-keystone')
    server = ApiServer.on_sqlite_behind_keystone(
        workdir, placement_server.url, keystone)
    server.start()
    service = keystone.register_service('accelerator', server.url + '/v2')
    yield server
    keystone.remove_service(service)
    server.stop()


def _connection(options: dict) -> openstack.connection.Connection:
    auth = v3.Password(**{k: v for k, v in options.items()
                          if k not in ('auth_type', 'region_name')})
    return openstack.connection.Connection(
        session=ks_session.Session(auth=auth),
        region_name=options['region_name'])


def test_keystone_tokens_as_nova_sends_them(keystone, keystone_v2, placement,
                                            unique_name):
    """The owner's token (a member of its project) creates and binds; the
    other project sees nothing; Nova's service user (roles service and
    admin in the service project) sees and deletes every project's."""
    owner = _connection(keystone.add_user(f'{unique_name}-owner',
                                          f'{unique_name}-p', ['member']))
    stranger = _connection(keystone.add_user(f'{unique_name}-other',
                                             f'{unique_name}-q', ['member']))
    nova = _connection(keystone.add_user(f'{unique_name}-nova', 'service',
                                         ['service', 'admin']))
    admin = _connection(keystone.password_options())
    host = make_host(placement, unique_name, units=1)
    # The agent's device report is ours (1.x), beside /v2.
    assert nova.session.put(
        f'{keystone_v2.url}/hosts/{unique_name}/accelerators',
        json=host['report']).status_code == 200
    scenario.add_vcpus(placement, host)
    assert admin.accelerator.post('/device_profiles', json=[{
        'name': unique_name, 'groups': [{'resources:PGPU': '1'}]}]
    ).status_code == 201
    gpus = dict(host, name=unique_name)

    arqs = owner.accelerator.post('/accelerator_requests', json={
        'device_profile_name': unique_name}).json()['arqs']
    instance = scenario.schedule(placement, gpus, 1)
    assert stranger.accelerator.patch(
        '/accelerator_requests', json=_bind_patch(gpus, arqs, instance)
    ).status_code == 404
    bound = owner.accelerator.patch('/accelerator_requests',
                                    json=_bind_patch(gpus, arqs, instance))
    assert bound.status_code == 200, bound.text
    assert stranger.accelerator.get('/accelerator_requests').json() == {
        'arqs': []}
    seen = nova.accelerator.get('/accelerator_requests',
                                params={'instance': instance}).json()['arqs']
    assert [a['uuid'] for a in seen] == [arqs[0]['uuid']]
    assert nova.accelerator.delete('/accelerator_requests', params={
        'instance': instance}).status_code == 204
    assert owner.accelerator.get('/accelerator_requests').json() == {
        'arqs': []}
