"""``/v2/accelerator_requests`` as stock Nova's Cyborg client calls it:
create from a profile, bind to the pool Placement allocated (synchronous,
all or nothing, no Placement write), read with PCI attach handles, delete;
bad input, conflicts and project scoping."""
import pytest

from tests.inprocess import scenario
from tests.inprocess.scenario import code
from tests.inprocess.scenario import v2


@pytest.fixture
def gpus(placement, service):
    return scenario.add_vcpus(placement,
                              scenario.reported_host(placement, service,
                                                     units=3))


@pytest.fixture
def nova(caller):
    """Nova's Cyborg client: the server owner's token (a member of p1),
    no microversion header. A profile of two one-unit groups exists."""
    made = v2(caller()).post('/v2/device_profiles', json=[{
        'name': 'two-gpus', 'groups': [{'resources:PGPU': '1'},
                                       {'resources:PGPU': '1'}]}])
    assert made.status_code == 201, made.json
    return v2(caller(token='user', roles='member,reader', project_id='p1',
                     user_id='u1'), version=None)


def _create(client, profile='two-gpus'):
    answer = client.post('/v2/accelerator_requests',
                         json={'device_profile_name': profile})
    assert answer.status_code == 201, answer.json
    return answer.json['arqs']


def _binding(host: dict, instance: str, hostname='compute-1') -> list:
    return [{'path': '/hostname', 'op': 'add', 'value': hostname},
            {'path': '/device_rp_uuid', 'op': 'add', 'value': host['pool']},
            {'path': '/instance_uuid', 'op': 'add', 'value': instance}]


def _bind(client, arqs: list, host: dict, instance: str):
    return client.patch('/v2/accelerator_requests', json={
        arq['uuid']: _binding(host, instance) for arq in arqs})


def _holder(admin, unit: str) -> str | None:
    attachment = admin.get(f'/accelerators/{unit}').json['attachment']
    if attachment and attachment['holds_accelerator']:
        return attachment['instance_uuid']
    return None


def test_nova_creates_binds_reads_and_deletes(nova, admin, placement, gpus):
    arqs = _create(nova)
    assert [(a['state'], a['device_profile_name'],
             a['device_profile_group_id'], a['attach_handle_type'],
             a['attach_handle_info']) for a in arqs] == [
        ('Initial', 'two-gpus', 0, '', {}), ('Initial', 'two-gpus', 1, '', {})]
    instance = scenario.schedule(placement, gpus, 2)
    generation = placement.get(f'/allocations/{instance}',
                               microversion='1.38')['consumer_generation']

    bound = _bind(nova, arqs, gpus, instance)

    assert bound.status_code == 200, bound.json
    assert {a['state'] for a in bound.json['arqs']} == {'Bound'}
    read = nova.get(f'/v2/accelerator_requests?instance={instance}').json
    assert read == bound.json
    units = {a['accelerator_uuid'] for a in read['arqs']}
    assert len(units) == 2 and units <= set(gpus['uuids'])
    addresses = {u['pci_address'] for u in gpus['report']['accelerators']}
    for arq in read['arqs']:
        assert (arq['hostname'], arq['device_rp_uuid'], arq['instance_uuid'],
                arq['project_id'], arq['attach_handle_type']) == (
            'compute-1', gpus['pool'], instance, 'p1', 'PCI')
        info = arq['attach_handle_info']
        assert (f'{info["domain"]}:{info["bus"]}:{info["device"]}.'
                f'{info["function"]}') in addresses
        assert _holder(admin, arq['accelerator_uuid']) == instance
    # Nova's allocation is the claim: Placement was not written.
    assert placement.get(f'/allocations/{instance}', microversion='1.38'
                         )['consumer_generation'] == generation

    assert nova.delete(f'/v2/accelerator_requests?instance={instance}'
                       ).status_code == 204
    assert nova.get(f'/v2/accelerator_requests?instance={instance}'
                    ).json == {'arqs': []}
    assert [_holder(admin, u) for u in units] == [None, None]
    assert nova.delete(f'/v2/accelerator_requests?instance={instance}'
                       ).status_code == 204


def test_a_unit_bound_through_an_arq_cannot_be_attached_elsewhere(
        nova, admin, placement, gpus):
    instance = scenario.schedule(placement, gpus, 2)
    arqs = _bind(nova, _create(nova), gpus, instance).json['arqs']
    other = scenario.schedule(placement, gpus, 0)
    for arq in arqs:
        refused = admin.put(f'/accelerators/{arq["accelerator_uuid"]}',
                            json={'instance_uuid': other})
        assert (refused.status_code, code(refused)) == (
            409, 'accelerator.attach.conflict')
    listed = admin.get(f'/accelerators?instance_uuid={instance}').json
    assert {a['uuid'] for a in listed['accelerator']} == {
        a['accelerator_uuid'] for a in arqs}


def test_binding_twice_is_the_same_and_elsewhere_is_409(nova, placement,
                                                         gpus):
    instance = scenario.schedule(placement, gpus, 2)
    arqs = _create(nova)
    first = _bind(nova, arqs, gpus, instance).json
    assert _bind(nova, arqs, gpus, instance).json == first
    other = scenario.schedule(placement, gpus, 1)
    refused = _bind(nova, arqs[:1], gpus, other)
    assert (refused.status_code, code(refused)) == (
        409, 'accelerator_request.state.conflict')


def test_a_bind_the_allocation_cannot_hold_binds_nothing(nova, admin,
                                                          placement, gpus):
    """Two ARQs, an allocation of one unit: 409, both stay Initial and no
    unit is bound to the instance."""
    instance = scenario.schedule(placement, gpus, 1)
    arqs = _create(nova)

    refused = _bind(nova, arqs, gpus, instance)

    assert (refused.status_code, code(refused)) == (
        409, 'accelerator_request.bind.not_enough_units')
    assert gpus['pool'] in refused.json['errors'][0]['detail']
    assert {a['state'] for a in nova.get('/v2/accelerator_requests').json[
        'arqs']} == {'Initial'}
    assert admin.get(f'/accelerators?instance_uuid={instance}'
                     ).json['accelerator'] == []


def test_a_provider_that_is_no_pool_is_400(nova, placement, gpus):
    instance = scenario.schedule(placement, gpus, 2)
    arqs = _create(nova)
    refused = _bind(nova, arqs, dict(gpus, pool=gpus['root']), instance)
    assert (refused.status_code, code(refused)) == (
        400, 'accelerator_request.bind.unknown_pool')
    assert gpus['root'] in refused.json['errors'][0]['detail']


def test_unbind_and_delete_one_by_one(nova, admin, placement, gpus):
    instance = scenario.schedule(placement, gpus, 2)
    arqs = _bind(nova, _create(nova), gpus, instance).json['arqs']
    first, second = arqs
    removed = nova.patch(f'/v2/accelerator_requests/{first["uuid"]}', json=[
        {'path': p, 'op': 'remove'}
        for p in ('/hostname', '/device_rp_uuid', '/instance_uuid')])
    assert removed.status_code == 200, removed.json
    assert (removed.json['state'], removed.json['instance_uuid'],
            removed.json['attach_handle_info']) == ('Initial', None, {})
    assert _holder(admin, first['accelerator_uuid']) is None
    # openstacksdk's form: the collection's, keyed by this ARQ.
    again = nova.patch(f'/v2/accelerator_requests/{first["uuid"]}',
                       json={first['uuid']: _binding(gpus, instance)})
    assert again.json['state'] == 'Bound'
    other = nova.patch(f'/v2/accelerator_requests/{first["uuid"]}',
                       json={second['uuid']: _binding(gpus, instance)})
    assert other.status_code == 400
    assert second['uuid'] in other.json['errors'][0]['detail']

    assert nova.delete(f'/v2/accelerator_requests/{second["uuid"]}'
                       ).status_code == 204
    assert _holder(admin, second['accelerator_uuid']) is None
    assert nova.get(f'/v2/accelerator_requests/{second["uuid"]}'
                    ).status_code == 404
    assert nova.delete(f'/v2/accelerator_requests?arqs={first["uuid"]}'
                       ).status_code == 204
    assert nova.get('/v2/accelerator_requests').json == {'arqs': []}


@pytest.mark.parametrize('body, why', [
    ('NOTUUID', 'not-a-uuid'),
    ('EMPTY', 'should be non-empty'),
    ('FIRST', 'lacks /instance_uuid'),
    ('MIXED', 'not both'),
    ('BADOP', '/0/op'),
])
def test_bad_patches_are_400_and_bind_nothing(nova, placement, gpus, body,
                                              why):
    instance = scenario.schedule(placement, gpus, 2)
    arqs = _create(nova)
    full = _binding(gpus, instance)
    body = {'NOTUUID': {'not-a-uuid': full}, 'EMPTY': {},
            'FIRST': {arqs[0]['uuid']: full[:2]},
            'MIXED': {arqs[0]['uuid']: full,
                      arqs[1]['uuid']: [{'path': '/hostname',
                                         'op': 'remove'}]},
            'BADOP': {arqs[0]['uuid']: [{'path': '/state', 'op': 'add',
                                         'value': 'Bound'}]},
            }[body]
    answer = nova.patch('/v2/accelerator_requests', json=body)
    assert answer.status_code == 400, answer.json
    assert why in answer.json['errors'][0]['detail']
    assert {a['state'] for a in nova.get('/v2/accelerator_requests').json[
        'arqs']} == {'Initial'}


@pytest.mark.parametrize('body, status', [
    ({'device_profile_name': 'no-such'}, 404),
    # Names no profile can have are no such profile, as Cyborg answers.
    ({'device_profile_name': 'a b'}, 404),
    ({'device_profile_name': ''}, 404),
    ({'device_profile_name': '!@#$%^&*()=-[]'}, 404),
    # What the column cannot hold is still refused.
    ({'device_profile_name': 'x' * 256}, 400),
    ({'device_profile_name': 'a\x00b'}, 400),
    ({'device_profile': 'two-gpus'}, 400),
])
def test_bad_creates(nova, body, status):
    assert nova.post('/v2/accelerator_requests', json=body
                     ).status_code == status


def test_deleting_an_arq_that_does_not_exist_is_404_and_deletes_none(nova):
    """As Cyborg answers ``?arqs=`` naming one that does not exist; the
    others named with it stay (all or none)."""
    arqs = _create(nova)
    missing = '6a0e5e0c-3d6f-4c56-9a57-1f0a4b8c2d11'
    answer = nova.delete(f'/v2/accelerator_requests?arqs={missing}')
    assert (answer.status_code, code(answer)) == (
        404, 'accelerator_request.not_found')
    assert missing in answer.json['errors'][0]['detail']
    mixed = nova.delete(
        f'/v2/accelerator_requests?arqs={arqs[0]["uuid"]},{missing}')
    assert mixed.status_code == 404
    assert len(nova.get('/v2/accelerator_requests').json['arqs']) == 2


def test_delete_needs_instance_or_arqs(nova):
    for query in ('', '?instance=x', '?arqs=a,b', '?instance=1&arqs=2',
                  '?host=h'):
        answer = nova.delete(f'/v2/accelerator_requests{query}')
        assert answer.status_code == 400, query
        assert answer.json['errors'][0]['detail']


def test_other_projects_neither_see_nor_change_them(nova, caller, service,
                                                     placement, gpus):
    instance = scenario.schedule(placement, gpus, 2)
    arqs = _create(nova)
    stranger = v2(caller(token='s', roles='member,reader', project_id='p2'))
    uuid = arqs[0]['uuid']
    assert stranger.get('/v2/accelerator_requests').json == {'arqs': []}
    assert stranger.get(f'/v2/accelerator_requests/{uuid}'
                        ).status_code == 404
    assert _bind(stranger, arqs, gpus, instance).status_code == 404
    assert stranger.delete(f'/v2/accelerator_requests/{uuid}'
                           ).status_code == 404
    assert stranger.delete(f'/v2/accelerator_requests?arqs={uuid}'
                           ).status_code == 404
    reader = v2(caller(token='r', roles='reader', project_id='p1'))
    assert len(reader.get('/v2/accelerator_requests').json['arqs']) == 2
    assert reader.post('/v2/accelerator_requests', json={
        'device_profile_name': 'two-gpus'}).status_code == 403
    assert reader.delete(f'/v2/accelerator_requests/{uuid}'
                         ).status_code == 403
    # Nova's service user sees and binds every project's.
    nova_service = v2(service, version=None)
    assert len(nova_service.get('/v2/accelerator_requests').json['arqs']) == 2
    assert _bind(nova_service, arqs, gpus, instance).status_code == 200
    assert nova.get(f'/v2/accelerator_requests/{uuid}'
                    ).json['state'] == 'Bound'


def test_versions_of_the_v2_subset(anonymous, caller):
    answer = anonymous.get('/v2')
    assert answer.status_code == 200
    version = answer.json['version']
    assert (version['id'], version['min_version'], version['max_version']) \
        == ('v2.0', '2.0', '2.3')
    assert version['links'][0]['href'].endswith('/v2/')
    assert answer.headers['OpenStack-API-Version'] == 'accelerator 2.0'
    client = caller()
    for asked, status in (('2.3', 200), ('latest', 200), ('2.4', 406),
                          ('1.0', 406)):
        v2(client, asked)
        answer = client.get('/v2/device_profiles')
        assert answer.status_code == status, asked
    assert answer.json['errors'][0]['code'] == 'api.version_not_acceptable'
    assert v2(client, '2.3').get('/v2/accelerator_requests').headers[
        'OpenStack-API-Version'] == 'accelerator 2.3'
    assert v2(client, '2.0').get('/accelerators').status_code == 406


def test_a_request_whose_binding_was_released_shows_unbound(
        nova, service, placement, gpus):
    """Its unit is no longer the server's: no handle for Nova to use."""
    instance = scenario.schedule(placement, gpus, 2)
    _bind(nova, _create(nova), gpus, instance)
    assert service.delete(f'/instances/{instance}/bindings'
                          ).status_code == 204
    shown = nova.get(f'/v2/accelerator_requests?instance={instance}').json
    assert [(a['state'], a['attach_handle_type'], a['attach_handle_info'],
             a['accelerator_uuid']) for a in shown['arqs']] == [
        ('Unbound', '', {}, None)] * 2
