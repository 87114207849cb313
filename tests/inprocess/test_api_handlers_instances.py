"""``/instances/{uuid}/bindings``: the units Nova's allocation holds, bound
to concrete accelerators, on the app in process and an in-process
Placement."""
import threading
import uuid

import pytest

from cyborg_placement.db import attachments
from tests.inprocess import scenario
from tests.inprocess.scenario import code
from tools.harness.server_process import free_port


@pytest.fixture
def gpus(placement, service):
    return scenario.reported_host(placement, service, units=3)


@pytest.fixture
def vcpus(placement):
    return lambda host: scenario.add_vcpus(placement, host)


def _bind(client, instance: str, host: str):
    return client.put(f'/instances/{instance}/bindings', json={'host': host})


def _bound(answer) -> list[str]:
    assert answer.status_code == 200, answer.json
    return [a['uuid'] for a in answer.json['bindings']]


def test_binding_follows_the_allocation_without_writing_to_placement(
        service, admin, placement, gpus, vcpus):
    vcpus(gpus)
    instance = scenario.schedule(placement, gpus, 2)
    generation = placement.get(f'/allocations/{instance}',
                               microversion='1.38')['consumer_generation']

    first = _bind(service, instance, gpus['name'])
    units = _bound(first)
    assert len(units) == 2 and set(units) <= set(gpus['uuids'])
    for shown in first.json['bindings']:
        attachment = shown['attachment']
        assert (attachment['instance_uuid'], attachment['state'],
                attachment['claim'], attachment['holds_accelerator'],
                attachment['project_id']) == (
            instance, 'attached', 'existing_allocation', True, 'p1')
        assert shown == admin.get(f'/accelerators/{shown["uuid"]}').json
    assert _bound(_bind(service, instance, gpus['name'])) == units
    assert placement.get(f'/allocations/{instance}', microversion='1.38')[
        'consumer_generation'] == generation
    listed = admin.get('/accelerators', query_string={
        'instance_uuid': instance}).json['accelerator']
    assert sorted(a['uuid'] for a in listed) == sorted(units)
    assert _bound(admin.get(f'/instances/{instance}/bindings')) == units

    scenario.schedule(placement, gpus, 3, instance)  # resized up
    grown = _bound(_bind(service, instance, gpus['name']))
    assert grown[:2] == units and len(grown) == 3
    scenario.schedule(placement, gpus, 1, instance)  # resized down
    assert _bound(_bind(service, instance, gpus['name'])) == units[:1]
    released = admin.get(f'/accelerators/{units[1]}').json['attachment']
    assert (released['state'], released['holds_accelerator']) == (
        'detached', False)
    assert 'holds fewer units' in released['reason']
    scenario.schedule(placement, gpus, 0, instance)  # a flavor without the pool
    assert _bound(_bind(service, instance, gpus['name'])) == []


def test_an_instance_without_allocations_there_gets_none(service, gpus):
    answer = _bind(service, str(uuid.uuid4()), gpus['name'])
    assert (answer.status_code, answer.json) == (200, {'bindings': []})
    unknown_host = _bind(service, str(uuid.uuid4()), 'nowhere')
    assert (unknown_host.status_code, unknown_host.json) == (
        200, {'bindings': []})


def test_the_reconciler_never_sees_a_binding(service, placement, gpus,
                                              vcpus):
    """Nova's driver puts bindings into the guest's XML: the host's
    reconciler must not attach them as well."""
    vcpus(gpus)
    instance = scenario.schedule(placement, gpus, 1)
    _bound(_bind(service, instance, gpus['name']))
    feed = service.get(f'/hosts/{gpus["name"]}/attachments',
                       query_string={'changes_since': 0})
    assert feed.status_code == 200
    assert feed.json['attachments'] == []


def test_two_instances_binding_at_once_never_share_a_unit(
        app, caller, placement, gpus, vcpus, monkeypatch):
    """Every bind reads the same free units, then all insert at once: the
    unique index on the holder decides, the losers take the next unit.

    The in-process Placement serves one request at a time (its SQLite
    session is not for threads), so its calls take turns; the binds'
    database writes do not.
    """
    vcpus(gpus)
    instances = [scenario.schedule(placement, gpus, 1) for _ in range(3)]
    read_free = threading.Barrier(len(instances))
    services = app.extensions['cyborg'].services
    turns = threading.Lock()
    for name in ('get', 'put'):
        method = getattr(services.placement, name)
        monkeypatch.setattr(services.placement, name,
                            lambda *a, _m=method, **k: _locked(turns, _m,
                                                               *a, **k))
    free_units = attachments.free_units

    def all_read_then_insert(*args):
        found = free_units(*args)
        read_free.wait(timeout=30)
        return found
    monkeypatch.setattr(attachments, 'free_units', all_read_then_insert)
    answers = {}

    def bind(instance):
        client = caller(token='nova', roles='service', project_id='svc')
        answers[instance] = _bind(client, instance, gpus['name'])

    threads = [threading.Thread(target=bind, args=(i,)) for i in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bound = [_bound(answers[i]) for i in instances]
    assert sorted(u for units in bound for u in units) == sorted(
        gpus['uuids'])


def _locked(lock, method, *args, **kwargs):
    with lock:
        return method(*args, **kwargs)


def test_not_enough_units_is_409_naming_the_pool_and_binds_nothing(
        service, admin, placement, gpus, vcpus):
    vcpus(gpus)
    instance = scenario.schedule(placement, gpus, 1)
    units = _bound(_bind(service, instance, gpus['name']))
    other = scenario.schedule(placement, gpus, 1)
    taken = _bound(_bind(service, other, gpus['name']))
    # The third unit leaves the host after Nova scheduled onto it.
    report = {'accelerators': gpus['report']['accelerators'][:2]}
    assert service.put(f'/hosts/{gpus["name"]}/accelerators',
                       json=report).status_code == 200
    scenario.schedule(placement, gpus, 2, instance)

    refused = _bind(service, instance, gpus['name'])
    assert (refused.status_code, code(refused)) == (
        409, 'accelerator.bind.not_enough_units')
    detail = refused.json['errors'][0]['detail']
    assert gpus['pool'] in detail and 'Nothing was bound' in detail
    assert _bound(admin.get(f'/instances/{instance}/bindings')) == units
    assert _bound(admin.get(f'/instances/{other}/bindings')) == taken


def test_a_missing_unit_is_replaced_by_a_present_one(service, placement,
                                                     gpus, vcpus):
    vcpus(gpus)
    instance = scenario.schedule(placement, gpus, 1)
    [unit] = _bound(_bind(service, instance, gpus['name']))
    index = gpus['uuids'].index(unit)
    report = {'accelerators': [u for n, u in enumerate(
        gpus['report']['accelerators']) if n != index]}
    shown = service.put(f'/hosts/{gpus["name"]}/accelerators', json=report)
    assert [a['state'] for a in shown.json['accelerators']
            if a['uuid'] == unit] == ['missing']
    [replacement] = _bound(_bind(service, instance, gpus['name']))
    assert replacement != unit


def test_other_hosts_are_left_alone_and_a_migration_keeps_its_source(
        service, admin, placement, gpus, vcpus):
    """A cold migration: Nova moves the instance's source allocation to a
    migration consumer and allocates on the destination. The source keeps
    its units (so a revert works) until Nova's migration consumer lets go."""
    other = scenario.reported_host(placement, service, 'compute-2', units=1)
    vcpus(gpus), vcpus(other)
    instance = scenario.schedule(placement, gpus, 1)
    source = _bound(_bind(service, instance, gpus['name']))
    migration = str(uuid.uuid4())
    scenario.allocate(placement, migration,
              placement.get(f'/allocations/{instance}')['allocations'],
              consumer_type='MIGRATION')
    scenario.schedule(placement, other, 1, instance)

    destination = _bound(_bind(service, instance, other['name']))
    assert destination == other['uuids']
    assert sorted(_bound(admin.get(f'/instances/{instance}/bindings'))) == \
        sorted(source + destination)
    # Reconcile passes of the source host, and binds in its pool, keep it.
    assert service.get(f'/hosts/{gpus["name"]}/attachments').status_code \
        == 200
    newcomer = scenario.schedule(placement, gpus, 2)
    assert len(_bound(_bind(service, newcomer, gpus['name']))) == 2
    assert admin.get(f'/accelerators/{source[0]}').json['attachment'][
        'instance_uuid'] == instance

    scenario.allocate(placement, migration, {}, consumer_type='MIGRATION')  # confirm
    service.get(f'/hosts/{gpus["name"]}/attachments')
    assert _bound(admin.get(f'/instances/{instance}/bindings')) == \
        destination


def test_a_deleted_instance_is_released_by_the_hosts_reconcile_pass(
        service, admin, placement, gpus, vcpus):
    """Deleted while its compute host was down: Nova never called DELETE."""
    vcpus(gpus)
    instance = scenario.schedule(placement, gpus, 2)
    units = _bound(_bind(service, instance, gpus['name']))
    scenario.allocate(placement, instance, {})
    assert service.get(f'/hosts/{gpus["name"]}/attachments').status_code \
        == 200
    assert _bound(admin.get(f'/instances/{instance}/bindings')) == []
    reason = admin.get(f'/accelerators/{units[0]}').json['attachment'][
        'reason']
    assert 'no consumer in Placement holds this unit' in reason


def test_the_hosts_feed_is_served_with_bindings_and_placement_away(
        make_app, api_conf, service, placement, gpus, vcpus):
    """The bindings check of the feed waits for Placement, as its repair
    does; the bindings stay."""
    instance = scenario.schedule(placement, vcpus(gpus), 2)
    bound = _bound(_bind(service, instance, gpus['name']))
    api_conf.set_override('endpoint', f'http://127.0.0.1:{free_port()}',
                          group='placement')
    away = make_app(api_conf).test_client()
    away.environ_base.update({'HTTP_X_AUTH_TOKEN': 's',
                              'HTTP_X_ROLES': 'service'})
    assert away.get(f'/hosts/{gpus["name"]}/attachments').status_code == 200
    assert _bound(away.get(f'/instances/{instance}/bindings')) == bound


def test_a_stale_binding_is_released_by_the_next_bind_in_its_pool(
        service, admin, placement, gpus, vcpus):
    vcpus(gpus)
    gone = scenario.schedule(placement, gpus, 3)
    _bound(_bind(service, gone, gpus['name']))
    scenario.allocate(placement, gone, {})
    newcomer = scenario.schedule(placement, gpus, 3)
    assert len(_bound(_bind(service, newcomer, gpus['name']))) == 3
    assert _bound(admin.get(f'/instances/{gone}/bindings')) == []


def test_delete_releases_per_host_or_everywhere_and_is_idempotent(
        service, admin, placement, gpus, vcpus):
    other = scenario.reported_host(placement, service, 'compute-2', units=1)
    vcpus(gpus), vcpus(other)
    instance = scenario.schedule(placement, gpus, 1)
    here = _bound(_bind(service, instance, gpus['name']))
    scenario.allocate(placement, instance, {
        gpus['root']: {'resources': {'VCPU': 2}},
        gpus['pool']: {'resources': {'PGPU': 1}},
        other['pool']: {'resources': {'PGPU': 1}}})
    there = _bound(_bind(service, instance, other['name']))
    path = f'/instances/{instance}/bindings'

    assert service.delete(path, query_string={
        'host': other['name']}).status_code == 204
    assert _bound(admin.get(path)) == here
    for _ in range(2):
        assert service.delete(path).status_code == 204
        assert _bound(admin.get(path)) == []
    assert placement.get(f'/allocations/{instance}')['allocations'][
        gpus['pool']]['resources'] == {'PGPU': 1}
    assert admin.get(f'/accelerators/{there[0]}').json['attachment'][
        'holds_accelerator'] is False


def test_bad_input_is_400(service):
    instance = str(uuid.uuid4())
    for body in ({}, {'host': ''}, {'host': 'h', 'extra': 1}, {'host': 3}):
        answer = service.put(f'/instances/{instance}/bindings', json=body)
        assert (answer.status_code, code(answer)) == (
            400, 'api.invalid_input'), body
    assert service.put('/instances/not-a-uuid/bindings',
                       json={'host': 'h'}).status_code == 400
    unknown = service.delete(f'/instances/{instance}/bindings',
                             query_string={'hots': 'h'})
    assert unknown.status_code == 400


def test_policies(caller, service, placement, gpus, vcpus):
    """Nova (service) and admins bind and release; members and readers of
    the instance's project see its bindings; to another project the
    instance has none (as if it did not exist)."""
    vcpus(gpus)
    instance = scenario.schedule(placement, gpus, 1, project='p1')
    path = f'/instances/{instance}/bindings'
    member = caller(token='member', roles='member', project_id='p1')
    outsider = caller(token='outsider', roles='member', project_id='p2')
    reader = caller(token='reader', roles='reader', project_id='p1')
    for client in (member, reader):
        refused = client.put(path, json={'host': gpus['name']})
        assert (refused.status_code, code(refused)) == (403, 'api.forbidden')
        refused = client.delete(path)
        assert (refused.status_code, code(refused)) == (403, 'api.forbidden')
    units = _bound(_bind(service, instance, gpus['name']))
    assert _bound(member.get(path)) == units
    assert _bound(reader.get(path)) == units
    hidden = outsider.get(path)
    assert (hidden.status_code, hidden.json) == (200, {'bindings': []})
    assert _bound(caller().put(path, json={'host': gpus['name']})) == units
