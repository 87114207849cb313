"""Attach and detach as Placement claims, through real HTTP and the real
Placement: the host reconciler's calls, every refusal, and concurrency."""
import concurrent.futures
import uuid

import pytest

from tools.harness.api_server import make_host


@pytest.fixture
def service(api_server):
    return api_server.client(token='agent', roles='service', project_id='svc')


@pytest.fixture
def gpus(admin, service, placement, unique_name):
    """A host with a 2-unit GPU pool in Placement, reported to the API."""
    host = make_host(placement, unique_name)
    reported = service.put(f'/hosts/{unique_name}/accelerators',
                           json=host['report'])
    assert reported.status_code == 200
    host['uuids'] = [a['uuid'] for a in reported.json()['accelerators']]
    host['name'] = unique_name
    return host


def _instance(placement, root, project='p1', vcpu=True):
    """An instance Nova scheduled onto ``root`` (its own allocation)."""
    instance = str(uuid.uuid4())
    placement.put(f'/resource_providers/{root}/inventories', {
        'resource_provider_generation': placement.get(
            f'/resource_providers/{root}')['generation'],
        'inventories': {'VCPU': {'total': 64}}})
    placement.put(f'/allocations/{instance}', {
        'allocations': {root: {'resources': {'VCPU': 2}}},
        'consumer_generation': None, 'project_id': project,
        'user_id': 'u1', 'consumer_type': 'INSTANCE'}, microversion='1.38')
    return instance


def _units(placement, consumer, pool):
    found = placement.get(f'/allocations/{consumer}')['allocations']
    return found.get(pool, {}).get('resources', {}).get('PGPU', 0)


def _code(response):
    return response.json()['errors'][0]['code']


def _reconcile(service, host, since=0):
    found = service.get(f'/hosts/{host}/attachments',
                        params={'changes_since': since})
    assert found.status_code == 200
    return found.json()


def test_attach_merges_into_the_instance_allocation(
        admin, service, placement, gpus):
    instance = _instance(placement, gpus['root'])
    attached = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                         json={'instance_uuid': instance})
    assert attached.status_code == 200
    attachment = attached.json()['attachment']
    assert (attachment['state'], attachment['project_id']) == (
        'attaching', 'p1')
    allocations = placement.get(f'/allocations/{instance}')['allocations']
    assert allocations[gpus['root']]['resources'] == {'VCPU': 2}
    assert allocations[gpus['pool']]['resources'] == {'PGPU': 1}

    feed = _reconcile(service, gpus['name'])
    assert [a['uuid'] for a in feed['attachments']] == [attachment['uuid']]
    done = service.put(f'/attachments/{attachment["uuid"]}/state',
                       json={'state': 'attached'})
    assert done.json()['state'] == 'attached'
    bindings = admin.get('/accelerators', params={
        'instance_uuid': instance}).json()['accelerator']
    assert [(b['pci_address'], b['attachment']['state']) for b in bindings] \
        == [('0000:3b:00.0', 'attached')]
    assert _reconcile(service, gpus['name'], feed['revision'])[
        'attachments'][0]['state'] == 'attached'

    assert admin.delete(
        f'/accelerators/{gpus["uuids"][0]}').status_code == 204
    assert _units(placement, instance, gpus['pool']) == 1  # host acts first
    service.put(f'/attachments/{attachment["uuid"]}/state',
                json={'state': 'detached'})
    allocations = placement.get(f'/allocations/{instance}')['allocations']
    assert allocations == {gpus['root']: allocations[gpus['root']]}
    assert admin.get('/accelerators', params={
        'instance_uuid': instance}).json()['accelerator'] == []
    assert admin.delete(  # detaching what is not attached: no-op
        f'/accelerators/{gpus["uuids"][0]}').status_code == 204


def test_new_consumer_and_host_attach(admin, service, placement, gpus):
    instance = str(uuid.uuid4())
    member = service.__class__(admin.url, token='u', roles='member',
                               project_id='p7', user_id='u7')
    first = member.put(f'/accelerators/{gpus["uuids"][0]}',
                       json={'instance_uuid': instance})
    assert first.status_code == 200
    consumer = placement.get(f'/allocations/{instance}', microversion='1.38')
    assert (consumer['project_id'], consumer['user_id'],
            consumer['consumer_type']) == ('p7', 'u7', 'INSTANCE')
    assert member.put(f'/accelerators/{gpus["uuids"][1]}',
                      json={'host': gpus['name']}).status_code == 403
    second = admin.put(f'/accelerators/{gpus["uuids"][1]}',
                       json={'host': gpus['name']})
    assert second.status_code == 200
    own = second.json()['attachment']['consumer_uuid']
    assert _units(placement, own, gpus['pool']) == 1


def test_attached_elsewhere_and_no_free_unit_are_409(
        admin, placement, gpus):
    first = _instance(placement, gpus['root'])
    assert admin.put(f'/accelerators/{gpus["uuids"][0]}',
                     json={'instance_uuid': first}).status_code == 200
    again = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                      json={'instance_uuid': _instance(placement,
                                                       gpus['root'])})
    assert (again.status_code, _code(again)) == (
        409, 'accelerator.attach.conflict')
    # Nova took the pool's last unit for another instance's flavor.
    placement.put(f'/allocations/{uuid.uuid4()}', {
        'allocations': {gpus['pool']: {'resources': {'PGPU': 1}}},
        'consumer_generation': None, 'project_id': 'p1', 'user_id': 'u1',
        'consumer_type': 'INSTANCE'},
        microversion='1.38')
    full = admin.put(f'/accelerators/{gpus["uuids"][1]}',
                     json={'host': gpus['name']})
    assert (full.status_code, _code(full)) == (
        409, 'accelerator.attach.no_capacity')
    assert 'capacity' in full.json()['errors'][0]['detail']
    shown = admin.get(f'/accelerators/{gpus["uuids"][1]}').json()
    assert shown['attachment']['state'] == 'attach_failed'


def test_instance_on_another_host_is_409_wrong_host(
        admin, placement, gpus, unique_name):
    other_root = placement.post('/resource_providers', {
        'name': f'{unique_name}-other', 'uuid': str(uuid.uuid4())})['uuid']
    elsewhere = _instance(placement, other_root)
    before = placement.get(f'/allocations/{elsewhere}')['allocations']

    refused = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                        json={'instance_uuid': elsewhere})

    assert (refused.status_code, _code(refused)) == (
        409, 'accelerator.attach.wrong_host')
    detail = refused.json()['errors'][0]['detail']
    # Members get this too: the host of a unit they do not hold is not
    # theirs to read.
    assert elsewhere in detail and gpus['name'] not in detail
    assert placement.get(f'/allocations/{elsewhere}')['allocations'] == before
    usages = placement.get(f'/resource_providers/{gpus["pool"]}/usages')
    assert usages['usages']['PGPU'] == 0
    assert admin.get(
        f'/accelerators/{gpus["uuids"][0]}').json()['attachment'] is None
    # The accelerator stays free for an instance on its own host.
    here = _instance(placement, gpus['root'])
    assert admin.put(f'/accelerators/{gpus["uuids"][0]}',
                     json={'instance_uuid': here}).status_code == 200


def test_instance_holding_only_a_child_of_the_host_is_on_that_host(
        admin, placement, gpus, unique_name):
    """Nova may allocate from nested providers only (a NUMA node child)."""
    numa = placement.post('/resource_providers', {
        'name': f'{unique_name}_NUMA0', 'uuid': str(uuid.uuid4()),
        'parent_provider_uuid': gpus['root']})
    nested = _instance(placement, numa['uuid'])

    attached = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                         json={'instance_uuid': nested})

    assert attached.status_code == 200, attached.text
    assert _units(placement, nested, gpus['pool']) == 1


def test_member_cannot_attach_to_another_projects_instance(
        api_server, placement, gpus):
    theirs = _instance(placement, gpus['root'], project='p2')
    member = api_server.client(token='u', roles='member', project_id='p1')
    refused = member.put(f'/accelerators/{gpus["uuids"][0]}',
                         json={'instance_uuid': theirs})
    assert refused.status_code == 403
    assert _units(placement, theirs, gpus['pool']) == 0
    own = _instance(placement, gpus['root'], project='p1')
    assert member.put(f'/accelerators/{gpus["uuids"][0]}',
                      json={'instance_uuid': own}).status_code == 200
    other = api_server.client(token='u', roles='member', project_id='p2')
    assert other.delete(
        f'/accelerators/{gpus["uuids"][0]}').status_code == 403
    reader = api_server.client(token='u', roles='reader', project_id='p1')
    assert reader.delete(
        f'/accelerators/{gpus["uuids"][0]}').status_code == 403
    assert member.delete(
        f'/accelerators/{gpus["uuids"][0]}').status_code == 204


def test_callers_who_may_not_attach_learn_nothing(api_server, gpus):
    """Policy comes before the lookup: 403 even for an unknown accelerator."""
    reader = api_server.client(token='u', roles='reader', project_id='p1')
    member = api_server.client(token='u', roles='member', project_id='p1')
    unknown = str(uuid.uuid4())
    for client, body in ((reader, {'instance_uuid': str(uuid.uuid4())}),
                         (member, {'host': gpus['name']}),
                         (member, {'instance_uuid': str(uuid.uuid4()),
                                   'claim': False})):
        for accelerator in (unknown, gpus['uuids'][0]):
            refused = client.put(f'/accelerators/{accelerator}', json=body)
            assert refused.status_code == 403, (body, refused.text)


def test_attach_failed_releases_the_claim_and_shows_the_reason(
        admin, service, placement, gpus):
    instance = _instance(placement, gpus['root'])
    made = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                     json={'instance_uuid': instance}).json()['attachment']
    failed = service.put(f'/attachments/{made["uuid"]}/state', json={
        'state': 'attach_failed', 'reason': 'no IOMMU on this host'})
    assert failed.status_code == 200
    assert _units(placement, instance, gpus['pool']) == 0
    shown = admin.get(f'/accelerators/{gpus["uuids"][0]}').json()
    assert shown['attachment']['reason'] == 'no IOMMU on this host'
    again = service.put(f'/attachments/{made["uuid"]}/state',
                        json={'state': 'attach_failed'})
    assert again.status_code == 200  # repeated report: nothing more released
    wrong = service.put(f'/attachments/{made["uuid"]}/state',
                        json={'state': 'attached'})
    assert (wrong.status_code, _code(wrong)) == (
        409, 'attachment.state.conflict')
    assert admin.put(f'/accelerators/{gpus["uuids"][0]}', json={
        'instance_uuid': instance}).status_code == 200


def test_the_attachment_says_whether_it_holds_the_unit(
        admin, service, gpus):
    """Clients (the CLI's list, Nova's bindings) read this, not states."""
    def shown(index):
        attachment = admin.get(
            f'/accelerators/{gpus["uuids"][index]}').json()['attachment']
        return attachment['state'], attachment['holds_accelerator']

    def report(attachment, state):
        answer = service.put(f'/attachments/{attachment["uuid"]}/state',
                             json={'state': state})
        assert answer.status_code == 200, answer.text
        assert answer.json()['holds_accelerator'] is (state == 'attached')

    made = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                     json={'host': gpus['name']}).json()['attachment']
    assert made['holds_accelerator'] is True
    assert shown(0) == ('attaching', True)
    assert [a['holds_accelerator'] for a in _reconcile(
        service, gpus['name'])['attachments']] == [True]
    report(made, 'attached')
    assert shown(0) == ('attached', True)
    assert admin.delete(f'/accelerators/{gpus["uuids"][0]}').status_code \
        == 204
    assert shown(0) == ('detaching', True)
    report(made, 'detached')
    assert shown(0) == ('detached', False)

    failing = admin.put(f'/accelerators/{gpus["uuids"][1]}',
                        json={'host': gpus['name']}).json()['attachment']
    report(failing, 'attach_failed')
    assert shown(1) == ('attach_failed', False)
    listed = admin.get('/accelerators', params={'host': gpus['name']})
    assert [a['attachment']['holds_accelerator']
            for a in listed.json()['accelerator']] == [False, False]


def test_detach_of_novas_own_allocation_is_409(admin, service, placement,
                                               gpus):
    instance = str(uuid.uuid4())
    placement.put(f'/allocations/{instance}', {
        'allocations': {gpus['pool']: {'resources': {'PGPU': 1}}},
        'consumer_generation': None, 'project_id': 'p1', 'user_id': 'u1',
        'consumer_type': 'INSTANCE'},
        microversion='1.38')
    bound = service.put(f'/accelerators/{gpus["uuids"][0]}',
                        json={'instance_uuid': instance, 'claim': False})
    assert bound.status_code == 200
    assert bound.json()['attachment']['claim'] == 'existing_allocation'
    refused = admin.delete(f'/accelerators/{gpus["uuids"][0]}')
    assert (refused.status_code, _code(refused)) == (
        409, 'accelerator.detach.foreign_allocation')
    assert _units(placement, instance, gpus['pool']) == 1
    second = service.put(f'/accelerators/{gpus["uuids"][1]}',
                         json={'instance_uuid': instance, 'claim': False})
    assert (second.status_code, _code(second)) == (
        409, 'accelerator.attach.no_capacity')


def test_service_calls_are_service_only(api_server, gpus):
    member = api_server.client(token='u', roles='member', project_id='p1')
    assert member.put(f'/hosts/{gpus["name"]}/accelerators',
                      json=gpus['report']).status_code == 403
    assert member.get(
        f'/hosts/{gpus["name"]}/attachments').status_code == 403
    assert member.put(f'/attachments/{uuid.uuid4()}/state',
                      json={'state': 'attached'}).status_code == 403
    service = api_server.client(token='s', roles='service')
    assert service.put(f'/attachments/{uuid.uuid4()}/state',
                       json={'state': 'attached'}).status_code == 404
    bad = service.put(f'/hosts/{gpus["name"]}/accelerators',
                      json={'accelerators': [{'pci_address': '0000:3b:00.0'}]})
    assert bad.status_code == 400


def test_404_and_400_on_attach(admin, gpus):
    assert admin.put(f'/accelerators/{uuid.uuid4()}', json={
        'host': 'h'}).status_code == 404
    both = admin.put(f'/accelerators/{gpus["uuids"][0]}', json={
        'host': 'h', 'instance_uuid': str(uuid.uuid4())})
    assert both.status_code == 400
    assert admin.delete(f'/accelerators/{uuid.uuid4()}').status_code == 404


def test_twenty_clients_attach_one_accelerator_exactly_one_wins(
        api_server, placement, gpus):
    instances = [_instance(placement, gpus['root']) for _ in range(20)]

    def attach(instance):
        return api_server.client().put(f'/accelerators/{gpus["uuids"][0]}',
                                       json={'instance_uuid': instance})

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(attach, instances))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19
    winner = instances[[r.status_code for r in responses].index(200)]
    held = {i: _units(placement, i, gpus['pool']) for i in instances}
    assert held == {i: int(i == winner) for i in instances}
    usages = placement.get(f'/resource_providers/{gpus["pool"]}/usages')
    assert usages['usages']['PGPU'] == 1
