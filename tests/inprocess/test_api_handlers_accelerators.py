"""``/accelerators``: list, show, create, acc_specs, attach and detach, with
their refusals and policies, on the app in process and an in-process
Placement."""
import uuid

import pytest

from tests.inprocess import scenario
from tests.inprocess.scenario import code


@pytest.fixture
def member(caller):
    """A member of project p1 (not an admin)."""
    return caller(token='member', roles='member', project_id='p1')


@pytest.fixture
def gpus(placement, service):
    return scenario.reported_host(placement, service)


def _create(admin, name='fpga-1', **body):
    answer = admin.post('/accelerators', json={'name': name, **body})
    assert answer.status_code == 201, answer.json
    return admin.get(answer.headers['Location']).json


def test_another_project_learns_nothing_of_where_its_instance_is(
        caller, placement, gpus):
    """The project is checked before the host: naming another project's
    instance on another host is 403, as on this host, not 409
    wrong_host."""
    elsewhere = scenario.reported_host(placement, caller(), 'compute-2')
    for root in (elsewhere['root'], gpus['root']):
        theirs = scenario.instance(placement, root, project='p1')
        outsider = caller(token='outsider', roles='member', project_id='p2')
        refused = outsider.put(f'/accelerators/{gpus["uuids"][0]}',
                               json={'instance_uuid': theirs})
        assert (refused.status_code, code(refused)) == (403, 'api.forbidden')


# Records.

def test_create_then_show_and_list(admin):
    answer = admin.post('/accelerators', json={
        'name': 'fpga-1', 'acc_specs': {'device_type': 'FPGA', 'num': 1}})
    assert answer.status_code == 201
    shown = admin.get(answer.headers['Location'])
    assert shown.status_code == 200
    assert shown.json['name'] == 'fpga-1'
    assert shown.json['acc_specs']['device_type'] == 'FPGA'
    assert shown.headers['ETag'] == f'"{shown.json["revision"]}"'
    listed = admin.get('/accelerators').json['accelerator']
    assert [a['uuid'] for a in listed] == [shown.json['uuid']]


def test_create_with_the_uuid_in_the_path(admin):
    wanted = str(uuid.uuid4())
    answer = admin.post(f'/accelerators/{wanted}', json={'name': 'fpga-1'})
    assert answer.status_code == 201
    assert admin.get(f'/accelerators/{wanted}').json['name'] == 'fpga-1'


def test_duplicates_and_reserved_names_are_refused(admin):
    first = _create(admin)
    again = admin.post('/accelerators', json={'name': 'fpga-1'})
    assert (again.status_code, code(again)) == (
        409, 'accelerator.duplicate_name')
    same_uuid = admin.post(f'/accelerators/{first["uuid"]}',
                           json={'name': 'other'})
    assert (same_uuid.status_code, code(same_uuid)) == (
        409, 'accelerator.duplicate_uuid')
    reserved = admin.post('/accelerators',
                          json={'name': 'compute-1:0000:3b:00.0'})
    assert (reserved.status_code, code(reserved)) == (
        400, 'accelerator.reserved_name')


@pytest.mark.parametrize('body, wanted', [
    ({}, 'api.invalid_input'),
    ({'name': 'x', 'colour': 'red'}, 'api.invalid_input'),
    ({'name': 'x', 'uuid': 'not-a-uuid'}, 'api.invalid_input'),
    ({'name': 'x', 'acc_specs': {'vendor_id': 'xyz'}}, 'api.invalid_input'),
])
def test_bad_bodies_are_400_with_the_reason(admin, body, wanted):
    answer = admin.post('/accelerators', json=body)
    assert (answer.status_code, code(answer)) == (400, wanted)
    assert answer.json['errors'][0]['detail'].startswith(
        'JSON does not match the schema')


def test_malformed_json_and_other_media_types_are_400(admin):
    malformed = admin.post('/accelerators', data='{"name": ',
                           content_type='application/json')
    assert (malformed.status_code, code(malformed)) == (
        400, 'api.malformed_json')
    text = admin.post('/accelerators', data='name=x',
                      content_type='text/plain')
    assert (text.status_code, code(text)) == (400, 'api.invalid_input')


def test_show_of_an_unknown_or_malformed_uuid(admin):
    unknown = admin.get(f'/accelerators/{uuid.uuid4()}')
    assert (unknown.status_code, code(unknown)) == (
        404, 'accelerator.not_found')
    malformed = admin.get('/accelerators/nope')
    assert (malformed.status_code, code(malformed)) == (
        400, 'api.invalid_input')


def test_list_filters_pages_and_refuses_unknown_parameters(admin, gpus):
    _create(admin)
    on_host = admin.get('/accelerators', query_string={'host': gpus['name']})
    assert sorted(a['uuid'] for a in on_host.json['accelerator']) == sorted(
        gpus['uuids'])
    first = admin.get('/accelerators', query_string={'limit': 1})
    (page,) = first.json['accelerator']
    rest = admin.get('/accelerators', query_string={'marker': page['uuid']})
    assert len(rest.json['accelerator']) == 2
    for params in ({'colour': 'red'}, {'limit': 0}, {'limit': 'ten'},
                   {'instance_uuid': 'nope'}):
        answer = admin.get('/accelerators', query_string=params)
        assert (answer.status_code, code(answer)) == (
            400, 'api.invalid_input'), params


def test_acc_specs_are_replaced_under_if_match(admin):
    record = _create(admin, acc_specs={'num': 1})
    path = f'/accelerators/{record["uuid"]}/acc_specs'
    replaced = admin.put(path, json={'acc_specs': {'num': 2}},
                         headers={'If-Match': f'"{record["revision"]}"'})
    assert replaced.status_code == 200
    assert replaced.json['acc_specs']['num'] == 2
    assert replaced.headers['ETag'] != f'"{record["revision"]}"'
    stale = admin.put(path, json={'acc_specs': {'num': 3}},
                      headers={'If-Match': f'"{record["revision"]}"'})
    assert (stale.status_code, code(stale)) == (
        409, 'accelerator.update.conflict')
    assert admin.get(f'/accelerators/{record["uuid"]}').json[
        'acc_specs']['num'] == 2


def test_a_reported_units_type_and_ids_stay_the_reports(admin, gpus):
    """An admin's acc_specs on a unit an agent reported keep what the
    report says of it. Replacing them with a vendor alone once left the
    product id null, and every list of deployables answered 500."""
    unit = gpus['uuids'][0]
    path = f'/accelerators/{unit}/acc_specs'
    reported = admin.get(f'/accelerators/{unit}').json['acc_specs']
    kept = admin.put(path, json={'acc_specs': {'vendor_id': '10de',
                                               'num': 2}})
    assert kept.status_code == 200, kept.json
    assert kept.json['acc_specs'] == dict(reported, num=2)
    changed = admin.put(path, json={'acc_specs': {'product_id': '20b5',
                                                  'device_type': 'FPGA'}})
    assert (changed.status_code, code(changed)) == (
        409, 'accelerator.reported_spec')
    assert 'device_type, product_id' in changed.json['errors'][0]['detail']
    assert admin.get(f'/accelerators/{unit}').json['acc_specs'] == dict(
        reported, num=2)
    deployables = scenario.v2(admin).get('/v2/deployables')
    assert deployables.status_code == 200, deployables.json


def test_members_read_but_only_admins_write_records(admin, member):
    record = _create(admin)
    assert member.get('/accelerators').status_code == 200
    assert member.get(f'/accelerators/{record["uuid"]}').status_code == 200
    for answer in (
            member.post('/accelerators', json={'name': 'mine'}),
            member.put(f'/accelerators/{record["uuid"]}/acc_specs',
                       json={'acc_specs': {'num': 2}})):
        assert (answer.status_code, code(answer)) == (403, 'api.forbidden')


# Attach and detach.

def test_attach_to_an_instance_claims_in_its_allocation(
        admin, placement, gpus):
    instance = scenario.instance(placement, gpus['root'])
    answer = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                       json={'instance_uuid': instance})
    assert answer.status_code == 200
    attachment = answer.json['attachment']
    assert (attachment['state'], attachment['project_id'],
            attachment['instance_uuid']) == ('attaching', 'p1', instance)
    assert scenario.units_held(placement, instance, gpus['pool']) == 1
    bound = admin.get('/accelerators', query_string={
        'instance_uuid': instance}).json['accelerator']
    assert [a['uuid'] for a in bound] == [gpus['uuids'][0]]


def test_attach_to_a_host_claims_for_a_consumer_of_its_own(
        admin, placement, gpus):
    answer = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                       json={'host': gpus['name'], 'driver': 'vfio-pci'})
    assert answer.status_code == 200
    attachment = answer.json['attachment']
    assert (attachment['host'], attachment['driver']) == (
        gpus['name'], 'vfio-pci')
    assert scenario.units_held(placement, attachment['consumer_uuid'],
                               gpus['pool']) == 1


def test_attach_refusals(admin, placement, gpus):
    unreported = _create(admin)
    no_pool = admin.put(f'/accelerators/{unreported["uuid"]}',
                        json={'host': gpus['name']})
    assert (no_pool.status_code, code(no_pool)) == (
        409, 'accelerator.attach.no_pool')

    elsewhere = scenario.reported_host(placement, admin, 'compute-2')
    instance = scenario.instance(placement, elsewhere['root'])
    wrong_host = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                           json={'instance_uuid': instance})
    assert (wrong_host.status_code, code(wrong_host)) == (
        409, 'accelerator.attach.wrong_host')
    assert gpus['name'] not in wrong_host.json['errors'][0]['detail']

    assert admin.put(f'/accelerators/{gpus["uuids"][0]}',
                     json={'host': gpus['name']}).status_code == 200
    again = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                      json={'host': gpus['name']})
    assert (again.status_code, code(again)) == (
        409, 'accelerator.attach.conflict')

    for body in ({}, {'instance_uuid': instance, 'host': gpus['name']},
                 {'instance_uuid': instance, 'driver': 'vfio-pci'},
                 {'host': gpus['name'], 'driver': '../x'}):
        bad = admin.put(f'/accelerators/{gpus["uuids"][1]}', json=body)
        assert (bad.status_code, code(bad)) == (400, 'api.invalid_input'), body
    unknown = admin.put(f'/accelerators/{uuid.uuid4()}',
                        json={'host': gpus['name']})
    assert (unknown.status_code, code(unknown)) == (
        404, 'accelerator.not_found')


def test_attach_policies(caller, member, placement, gpus):
    """Members attach to their project's instances only, never to hosts;
    only services bind Nova's own allocation."""
    theirs = scenario.instance(placement, gpus['root'], project='p2')
    ours = scenario.instance(placement, gpus['root'], project='p1')
    accel = f'/accelerators/{gpus["uuids"][0]}'
    for body in ({'host': gpus['name']}, {'instance_uuid': theirs},
                 {'instance_uuid': ours, 'claim': False}):
        refused = member.put(accel, json=body)
        assert (refused.status_code, code(refused)) == (
            403, 'api.forbidden'), body
    assert scenario.units_held(placement, theirs, gpus['pool']) == 0
    attached = member.put(accel, json={'instance_uuid': ours})
    assert attached.status_code == 200
    assert attached.json['attachment']['project_id'] == 'p1'


def test_detach_asks_the_host_and_keeps_the_claim_until_it_reports(
        admin, caller, member, placement, gpus):
    instance = scenario.instance(placement, gpus['root'])
    accel = f'/accelerators/{gpus["uuids"][0]}'
    admin.put(accel, json={'instance_uuid': instance})

    outsider = caller(token='outsider', roles='member', project_id='p2')
    refused = outsider.delete(accel)
    assert (refused.status_code, code(refused)) == (403, 'api.forbidden')
    assert member.delete(accel).status_code == 204
    assert admin.get(accel).json['attachment']['state'] == 'detaching'
    assert scenario.units_held(placement, instance, gpus['pool']) == 1


def test_detach_of_what_is_not_attached_is_a_no_op(admin, gpus):
    accel = f'/accelerators/{gpus["uuids"][0]}'
    assert admin.delete(accel).status_code == 204
    assert admin.get(accel).json['attachment'] is None


def test_host_attachments_are_detached_by_admins_only(admin, member, gpus):
    accel = f'/accelerators/{gpus["uuids"][0]}'
    admin.put(accel, json={'host': gpus['name']})
    refused = member.delete(accel)
    assert (refused.status_code, code(refused)) == (403, 'api.forbidden')
    assert admin.delete(accel).status_code == 204


def test_binding_what_nova_allocated_claims_nothing(
        admin, service, placement, gpus):
    """``"claim": false``: the instance's own allocation holds the unit."""
    instance = str(uuid.uuid4())
    placement.put(f'/allocations/{instance}', {
        'allocations': {gpus['pool']: {'resources': {'PGPU': 1}}},
        'consumer_generation': None, 'project_id': 'p1', 'user_id': 'u1',
        'consumer_type': 'INSTANCE'}, microversion='1.38')
    first, second = (f'/accelerators/{u}' for u in gpus['uuids'])
    bound = service.put(first, json={'instance_uuid': instance,
                                     'claim': False})
    assert bound.status_code == 200
    assert bound.json['attachment']['claim'] == 'existing_allocation'
    assert scenario.units_held(placement, instance, gpus['pool']) == 1

    more = service.put(second, json={'instance_uuid': instance,
                                     'claim': False})
    assert (more.status_code, code(more)) == (
        409, 'accelerator.attach.no_capacity')
    detach = admin.delete(first)
    assert (detach.status_code, code(detach)) == (
        409, 'accelerator.detach.foreign_allocation')
