"""Projects are isolated: no project learns what another holds.

The real ``cyborg-api`` and a real Placement, behind noauth and behind the
real Keystone (keystonemiddleware validating its tokens). One host of five
GPUs:

- ``xa``: attached by a member of project A to its instance XA (an API claim);
- ``ya``: bound to A's instance YA, whose allocation Nova made (Placement,
  then the service's bind);
- ``host``: attached to the host itself by an admin (no project);
- ``free1``, ``free2``: held by nobody.

Each persona -- admin, service, member and reader of A, member and reader
of B -- shows, lists, filters, attaches and detaches; the tests assert what
each sees and the status codes. Another project's holder, the host and the
PCI addresses must not appear anywhere in what B is answered.
"""
import dataclasses
import uuid

import pytest

from cyborg_placement.placement.client import PlacementClient
from tests.conftest import make_conf
from tests.functional.cli_runner import clean_env
from tests.functional.cli_runner import openstack
from tools.harness import ini
from tools.harness.api_server import ApiClient
from tools.harness.api_server import ApiServer
from tools.harness.api_server import make_host

SEE_ALL = ('admin', 'service')
HOLDING = ('member_a', 'reader_a')
OTHERS = ('member_b', 'reader_b')
PERSONAS = SEE_ALL + HOLDING + OTHERS
#: Units project A holds (through XA and YA).
A_HOLDS = ('xa', 'ya')
#: What anyone sees of an attachment whose holder it may not see.
HELD_ONLY = {'accelerator_uuid', 'state', 'holds_accelerator'}


@dataclasses.dataclass
class Scene:
    clients: dict[str, ApiClient]
    project_a: str
    project_b: str
    host: str
    xa: str
    ya: str
    #: The units, by role in the scene, as an admin sees them.
    units: dict[str, dict]
    server: ApiServer
    users: dict[str, dict] = dataclasses.field(default_factory=dict)

    def uuid(self, name: str) -> str:
        return self.units[name]['uuid']

    def secrets(self) -> list[str]:
        """What project B must never read: A's instances, project and
        users, the host and every PCI address and pool of it."""
        found = [self.xa, self.ya, self.project_a, self.host]
        for unit in self.units.values():
            found += [unit['pci_address'], unit['pool_provider_uuid']]
            attachment = unit['attachment'] or {}
            found += [attachment.get('user_id'), attachment.get('uuid')]
        return [s for s in found if s]


def _placement(placement_server, tmp_path) -> PlacementClient:
    return PlacementClient.from_conf(make_conf(
        tmp_path, {'placement': ini.token_auth(placement_server.url)}))


def _nova_allocation(placement: PlacementClient, made: dict, instance: str,
                     project: str) -> None:
    """What Nova's scheduler writes for a flavor with resources:PGPU=1."""
    provider = placement.get(f'/resource_providers/{made["root"]}')
    placement.put(f'/resource_providers/{made["root"]}/inventories', {
        'resource_provider_generation': provider['generation'],
        'inventories': {'VCPU': {'total': 16}}})
    placement.put(f'/allocations/{instance}', {
        'allocations': {made['root']: {'resources': {'VCPU': 2}},
                        made['pool']: {'resources': {'PGPU': 1}}},
        'consumer_generation': None, 'project_id': project,
        'user_id': 'nova-user-of-a', 'consumer_type': 'INSTANCE'},
        microversion='1.38')


def _build(server: ApiServer, clients: dict, placement: PlacementClient,
           project_a: str, project_b: str) -> Scene:
    host = f'iso-{uuid.uuid4().hex[:8]}'
    made = make_host(placement, host, units=5)
    admin, service = clients['admin'], clients['service']
    reported = service.put(f'/hosts/{host}/accelerators', json=made['report'])
    assert reported.status_code == 200, reported.text
    xa, ya = str(uuid.uuid4()), str(uuid.uuid4())
    _nova_allocation(placement, made, ya, project_a)
    bound = service.put(f'/instances/{ya}/bindings', json={'host': host})
    assert bound.status_code == 200, bound.text
    roles = {'ya': bound.json()['bindings'][0]['uuid']}
    free = [a['uuid'] for a in reported.json()['accelerators']
            if a['uuid'] != roles['ya']]
    roles['xa'], roles['host'], roles['free1'], roles['free2'] = free
    attached = clients['member_a'].put(f'/accelerators/{roles["xa"]}',
                                       json={'instance_uuid': xa})
    assert attached.status_code == 200, attached.text
    attached = admin.put(f'/accelerators/{roles["host"]}',
                         json={'host': host})
    assert attached.status_code == 200, attached.text
    units = {name: admin.get(f'/accelerators/{u}').json()
             for name, u in roles.items()}
    return Scene(clients, project_a, project_b, host, xa, ya, units, server)


def _noauth_scene(placement_server, workdir, sections: dict | None = None
                  ) -> Scene:
    """A scene behind noauth; ``sections`` add to the API's cyborg.conf."""
    server = ApiServer.on_sqlite(workdir, placement_server.url, workers=1,
                                 sections=sections)
    server.start()
    project_a, project_b = f'project-a-{workdir.name}', \
        f'project-b-{workdir.name}'

    def client(name, roles, project):
        return server.client(token=name, roles=roles, project_id=project,
                             user_id=f'user-{name}')
    clients = {
        'admin': server.client(),
        'service': client('service', 'service', 'service-project'),
        'member_a': client('member_a', 'member,reader', project_a),
        'reader_a': client('reader_a', 'reader', project_a),
        'member_b': client('member_b', 'member,reader', project_b),
        'reader_b': client('reader_b', 'reader', project_b),
    }
    try:
        return _build(server, clients, _placement(placement_server, workdir),
                      project_a, project_b)
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope='module')
def noauth_scene(placement_server, tmp_path_factory):
    scene = _noauth_scene(placement_server,
                          tmp_path_factory.mktemp('isolation-noauth'))
    yield scene
    scene.server.stop()


@pytest.fixture(scope='module')
def keystone_scene(keystone, placement_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp('isolation-keystone')
    server = ApiServer.on_sqlite_behind_keystone(
        workdir, placement_server.url, keystone)
    server.start()
    suffix = uuid.uuid4().hex[:8]
    project_a = keystone.project(f'a-{suffix}')
    project_b = keystone.project(f'b-{suffix}')
    users = {
        'service': keystone.user(f'service-{suffix}',
                                 keystone.project(f'service-{suffix}'),
                                 ['service']),
        'member_a': keystone.user(f'member-a-{suffix}', project_a, ['member']),
        'reader_a': keystone.user(f'reader-a-{suffix}', project_a, ['reader']),
        'member_b': keystone.user(f'member-b-{suffix}', project_b, ['member']),
        'reader_b': keystone.user(f'reader-b-{suffix}', project_b, ['reader']),
    }
    clients = {name: server.client(token=keystone.token(options))
               for name, options in users.items()}
    clients['admin'] = server.client(
        token=keystone.admin_session().get_token())
    try:
        scene = _build(server, clients, _placement(placement_server, workdir),
                       project_a, project_b)
        scene.users = users
        yield scene
    finally:
        server.stop()


@pytest.fixture(scope='module', params=['noauth', 'keystone'])
def scene(request) -> Scene:
    """Module-scoped, as the scenes are: the tests of each scene are then
    one pytest-xdist group (tests/conftest.py), on one worker, which builds
    that scene once; requested by name, they were invisible to the
    grouping, and every worker built its own Keystone scene."""
    return request.getfixturevalue(f'{request.param}_scene')


def _sees_unit_of(persona: str, name: str) -> bool:
    """Holder and place: admins and the service always, A for its units."""
    return persona in SEE_ALL or (persona in HOLDING and name in A_HOLDS)


def _check_seen(scene: Scene, persona: str, name: str, body: dict) -> None:
    """``body`` (one accelerator as ``persona`` got it) shows the unit's
    holder and place exactly when the persona may see them."""
    full = scene.units[name]
    assert body['uuid'] == full['uuid']
    assert body['state'] == full['state'] == 'available'
    place = ('name', 'host', 'pci_address', 'pool_provider_uuid')
    if _sees_unit_of(persona, name):
        assert {k: body[k] for k in place} == {k: full[k] for k in place}
        assert body['host'] == scene.host
    else:
        assert not set(place) & set(body), body
    attachment = body['attachment']
    if name.startswith('free'):
        assert attachment is None
        return
    assert attachment['holds_accelerator'] is True
    if name == 'host' and persona not in SEE_ALL or \
            not _sees_unit_of(persona, name):
        assert set(attachment) == HELD_ONLY, attachment
        return
    assert attachment == full['attachment']
    if name == 'xa':
        assert (attachment['instance_uuid'], attachment['project_id'],
                attachment['consumer_uuid']) == (
            scene.xa, scene.project_a, scene.xa)
    elif name == 'ya':
        assert (attachment['instance_uuid'], attachment['project_id'],
                attachment['claim']) == (
            scene.ya, scene.project_a, 'existing_allocation')


def _check_no_secrets(scene: Scene, persona: str, text: str) -> None:
    if persona in OTHERS:
        leaked = [s for s in scene.secrets() if s in text]
        assert leaked == [], f'{persona} read {leaked}'


@pytest.mark.parametrize('persona', PERSONAS)
def test_show_shows_holder_and_place_to_whom_they_belong(scene, persona):
    client = scene.clients[persona]
    for name, unit in scene.units.items():
        answer = client.get(f'/accelerators/{unit["uuid"]}')
        assert answer.status_code == 200, answer.text
        _check_seen(scene, persona, name, answer.json())
        _check_no_secrets(scene, persona, answer.text)


def _listed(client: ApiClient, **params) -> list[dict]:
    answer = client.get('/accelerators', params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()['accelerator']


def _uuids(scene: Scene, *names: str) -> list[str]:
    """In creation (list) order."""
    order = [a['uuid'] for a in _listed(scene.clients['admin'])]
    return sorted((scene.uuid(n) for n in names), key=order.index)


@pytest.mark.parametrize('persona', PERSONAS)
def test_list_shows_every_unit_as_show_does(scene, persona):
    client = scene.clients[persona]
    listed = {a['uuid']: a for a in _listed(client)}
    assert set(listed) == {u['uuid'] for u in scene.units.values()}
    for name, unit in scene.units.items():
        _check_seen(scene, persona, name, listed[unit['uuid']])
    for params in ({'device_type': 'GPU'}, {'state': 'available'}):
        assert {a['uuid'] for a in _listed(client, **params)} == set(listed)
    assert _listed(client, state='missing') == []
    _check_no_secrets(scene, persona, client.get('/accelerators').text)


@pytest.mark.parametrize('persona', PERSONAS)
def test_host_filter_matches_only_units_whose_host_one_sees(scene, persona):
    client = scene.clients[persona]
    by_host = [a['uuid'] for a in _listed(client, host=scene.host)]
    if persona in SEE_ALL:
        assert by_host == _uuids(scene, *scene.units)
    elif persona in HOLDING:
        assert by_host == _uuids(scene, *A_HOLDS)
    else:
        assert by_host == []
    assert _listed(client, host=f'{scene.host}-none') == []
    # Page by page (one unit a page), skipping what it may not see.
    paged, marker = [], None
    while True:
        page = _listed(client, host=scene.host, limit=1,
                       **({'marker': marker} if marker else {}))
        if not page:
            break
        paged.append(page[0]['uuid'])
        marker = page[0]['uuid']
    assert paged == by_host


@pytest.mark.parametrize('persona', PERSONAS)
def test_instance_filter_of_another_project_finds_nothing(scene, persona):
    client = scene.clients[persona]
    for instance, name in ((scene.xa, 'xa'), (scene.ya, 'ya')):
        listed = _listed(client, instance_uuid=instance)
        if persona in OTHERS:
            assert listed == []
        else:
            assert [a['uuid'] for a in listed] == [scene.uuid(name)]
            _check_seen(scene, persona, name, listed[0])
    assert _listed(client, instance_uuid=str(uuid.uuid4())) == []


@pytest.mark.parametrize('persona', PERSONAS)
def test_paging_walks_the_same_units(scene, persona):
    client = scene.clients[persona]
    paged, marker = [], None
    while True:
        page = _listed(client, limit=2, **({'marker': marker} if marker
                                            else {}))
        paged += [a['uuid'] for a in page]
        if len(page) < 2:
            break
        marker = page[-1]['uuid']
    assert paged == [a['uuid'] for a in _listed(client)]


@pytest.mark.parametrize('persona', PERSONAS)
def test_bindings_of_another_project_are_as_if_there_were_none(scene,
                                                               persona):
    answer = scene.clients[persona].get(f'/instances/{scene.ya}/bindings')
    assert answer.status_code == 200, answer.text
    bindings = answer.json()['bindings']
    if persona in OTHERS:
        assert bindings == []
    else:
        assert [b['uuid'] for b in bindings] == [scene.uuid('ya')]
        _check_seen(scene, persona, 'ya', bindings[0])
    _check_no_secrets(scene, persona, answer.text)


@pytest.mark.parametrize('persona', PERSONAS)
def test_the_host_feed_is_the_service_s(scene, persona):
    answer = scene.clients[persona].get(f'/hosts/{scene.host}/attachments')
    if persona not in SEE_ALL:
        assert answer.status_code == 403
        return
    assert answer.status_code == 200, answer.text
    feed = {a['accelerator_uuid']: a for a in answer.json()['attachments']}
    assert feed[scene.uuid('xa')] == scene.units['xa']['attachment']
    assert feed[scene.uuid('host')]['host'] == scene.host


def _release(scene: Scene, unit: str) -> None:
    """The host's agent confirms a detach (the service's report)."""
    attachment = scene.clients['admin'].get(
        f'/accelerators/{unit}').json()['attachment']
    assert attachment['state'] == 'detaching'
    done = scene.clients['service'].put(
        f'/attachments/{attachment["uuid"]}/state',
        json={'state': 'detached'})
    assert done.status_code == 200, done.text


ATTACH_OWN = {'admin': 200, 'service': 403, 'member_a': 200, 'reader_a': 403,
              'member_b': 200, 'reader_b': 403}


@pytest.mark.parametrize('persona', PERSONAS)
def test_attach_and_detach_for_an_instance_of_one_s_own(scene, persona):
    """Members attach to their project's instances and then see the unit's
    place (they hold it); readers and the service may not attach."""
    client, admin = scene.clients[persona], scene.clients['admin']
    unit, instance = scene.uuid('free1'), str(uuid.uuid4())
    before = admin.get(f'/accelerators/{unit}').json()['attachment']
    answer = client.put(f'/accelerators/{unit}',
                        json={'instance_uuid': instance})
    assert answer.status_code == ATTACH_OWN[persona], answer.text
    if answer.status_code != 200:
        assert admin.get(f'/accelerators/{unit}').json()[
            'attachment'] == before
        return
    body = answer.json()
    assert (body['host'], body['pci_address']) == (
        scene.host, scene.units['free1']['pci_address'])
    assert body['attachment']['instance_uuid'] == instance
    # The other project sees that it is held, and nothing more.
    other = 'member_a' if persona == 'member_b' else 'member_b'
    seen = scene.clients[other].get(f'/accelerators/{unit}')
    assert 'host' not in seen.json()
    assert set(seen.json()['attachment']) == HELD_ONLY
    assert instance not in seen.text
    refused = scene.clients[other].delete(f'/accelerators/{unit}')
    assert refused.status_code == 403
    assert client.delete(f'/accelerators/{unit}').status_code == 204
    _release(scene, unit)


ATTACH_HELD = {'admin': 409, 'service': 403, 'member_a': 409, 'reader_a': 403,
               'member_b': 403, 'reader_b': 403}


@pytest.mark.parametrize('persona', PERSONAS)
def test_attach_of_a_unit_project_a_holds(scene, persona):
    """Only admins and A get as far as the conflict; B is refused on A's
    instance before anything is looked at."""
    answer = scene.clients[persona].put(f'/accelerators/{scene.uuid("xa")}',
                                        json={'instance_uuid': scene.xa})
    assert answer.status_code == ATTACH_HELD[persona], answer.text
    _check_no_secrets(scene, persona, answer.text)


@pytest.mark.parametrize('persona', ('service', 'reader_a') + OTHERS)
def test_no_one_else_attaches_to_project_a_s_instance(scene, persona):
    unit = scene.uuid('free2')
    answer = scene.clients[persona].put(f'/accelerators/{unit}',
                                        json={'instance_uuid': scene.ya})
    assert answer.status_code == 403, answer.text
    assert scene.clients['admin'].get(
        f'/accelerators/{unit}').json()['attachment'] is None


DETACH_A_S = {'service': 403, 'reader_a': 403, 'member_b': 403,
              'reader_b': 403}


@pytest.mark.parametrize('persona', sorted(DETACH_A_S))
def test_detach_of_what_project_a_holds(scene, persona):
    for name in ('xa', 'host'):
        answer = scene.clients[persona].delete(
            f'/accelerators/{scene.uuid(name)}')
        assert answer.status_code == DETACH_A_S[persona], answer.text
        attachment = scene.clients['admin'].get(
            f'/accelerators/{scene.uuid(name)}').json()['attachment']
        assert attachment['state'] == 'attaching'


@pytest.mark.parametrize('persona', ('member_a', 'member_b'))
def test_members_do_not_detach_host_attachments(scene, persona):
    answer = scene.clients[persona].delete(
        f'/accelerators/{scene.uuid("host")}')
    assert answer.status_code == 403, answer.text


DETACH_FREE = {'admin': 204, 'service': 403, 'member_a': 204, 'reader_a': 403,
               'member_b': 204, 'reader_b': 403}


@pytest.mark.parametrize('persona', PERSONAS)
def test_detach_of_a_free_unit(scene, persona):
    answer = scene.clients[persona].delete(
        f'/accelerators/{scene.uuid("free2")}')
    assert answer.status_code == DETACH_FREE[persona], answer.text


def test_an_admin_detaches_what_another_project_holds(scene):
    """B's unit: A's member, B's reader and the service may not detach it;
    an admin may."""
    unit, clients = scene.uuid('free2'), scene.clients
    attached = clients['member_b'].put(f'/accelerators/{unit}', json={
        'instance_uuid': str(uuid.uuid4())})
    assert attached.status_code == 200, attached.text
    for persona in ('member_a', 'reader_a', 'reader_b', 'service'):
        refused = clients[persona].delete(f'/accelerators/{unit}')
        assert refused.status_code == 403, (persona, refused.text)
    assert clients['admin'].delete(f'/accelerators/{unit}').status_code == 204
    _release(scene, unit)


def test_a_token_without_a_project_sees_and_detaches_nothing(noauth_scene):
    """A ``project_id:%(project_id)s`` check never matches a holder without
    a project (a free unit, a host attachment), not even for a caller
    without one."""
    scene = noauth_scene
    nobody = scene.server.client(token='nobody', roles='member,reader')
    for name in scene.units:
        answer = nobody.get(f'/accelerators/{scene.uuid(name)}')
        assert answer.status_code == 200
        assert 'host' not in answer.json()
    refused = nobody.delete(f'/accelerators/{scene.uuid("host")}')
    assert refused.status_code == 403, refused.text


def _openrc(scene: Scene, persona: str, region: str) -> dict[str, str]:
    user = scene.users[persona]
    env = clean_env()
    env.update({
        'OS_AUTH_TYPE': 'password', 'OS_AUTH_URL': user['auth_url'],
        'OS_USERNAME': user['username'], 'OS_PASSWORD': user['password'],
        'OS_PROJECT_ID': user['project_id'],
        'OS_USER_DOMAIN_ID': user['user_domain_id'],
        'OS_REGION_NAME': region, 'OS_IDENTITY_API_VERSION': '3',
    })
    return env


def test_the_cli_of_another_project_shows_hidden_fields(keystone,
                                                        keystone_scene):
    """``openstack accelerator ...`` with an openrc of project B: the
    catalog finds the API, hidden fields print as "(hidden)", the filters
    naming A's instance or the host find nothing, and no traceback."""
    scene = keystone_scene
    region = f'isolation-{uuid.uuid4().hex[:8]}'
    service = keystone.register_service('accelerator', scene.server.url,
                                        region)
    try:
        _check_the_cli_of_project_b(scene, region)
    finally:
        keystone.remove_service(service)


def _check_the_cli_of_project_b(scene, region: str) -> None:
    env = _openrc(scene, 'member_b', region)
    outputs = []

    def run(*args):
        result = openstack('accelerator', *args, '-f', 'json', env=env)
        assert result.returncode == 0, result.stderr
        assert 'Traceback' not in result.stderr
        outputs.append(result.stdout)
        return result.json()

    rows = {r['UUID']: r for r in run('list', '--long')}
    held = rows[scene.uuid('xa')]
    assert [held[c] for c in ('Name', 'Host', 'Attached To', 'PCI Address',
                              'Attachment State')] == [
        '(hidden)', '(hidden)', '(hidden)', '(hidden)', 'attaching']
    assert rows[scene.uuid('free1')]['Attached To'] is None
    shown = run('show', scene.uuid('xa'))
    assert (shown['host'], shown['pci_address']) == ('(hidden)', '(hidden)')
    assert set(shown['attachment']) == HELD_ONLY
    assert run('list', '--instance', scene.xa) == []
    assert run('list', '--host', scene.host) == []
    _check_no_secrets(scene, 'member_b', '\n'.join(outputs))
    # Project A's member, through the same catalog, sees its unit.
    mine = openstack('accelerator', 'list', '--instance', scene.xa, '-f',
                     'json', env=_openrc(scene, 'member_a', region))
    assert mine.returncode == 0, mine.stderr
    assert [(r['Host'], r['Via']) for r in mine.json()] == [
        (scene.host, 'acc-attach')]


def test_an_operator_opens_hosts_to_every_reader(placement_server, tmp_path):
    """``accelerator:show:host`` and ``:pci_address`` opened in policy.yaml:
    members pick units by host; who holds them stays hidden."""
    opened = 'rule:admin_api or rule:service_api or role:member or role:reader'
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text(f'"accelerator:show:host": "{opened}"\n'
                           f'"accelerator:show:pci_address": "{opened}"\n')
    scene = _noauth_scene(placement_server, tmp_path, {
        'oslo_policy': {'policy_file': str(policy_file)}})
    try:
        client = scene.clients['member_b']
        by_host = {a['uuid']: a for a in _listed(client, host=scene.host)}
        assert set(by_host) == {u['uuid'] for u in scene.units.values()}
        held = by_host[scene.uuid('xa')]
        assert (held['host'], held['name'], held['pci_address']) == (
            scene.host, scene.units['xa']['name'],
            scene.units['xa']['pci_address'])
        assert set(held['attachment']) == HELD_ONLY
        assert _listed(client, instance_uuid=scene.xa) == []
    finally:
        scene.server.stop()
