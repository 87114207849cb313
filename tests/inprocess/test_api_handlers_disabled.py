"""``PUT /accelerators/{uuid}/disabled`` and the health the device report
brings: who may disable, what disabling and health change for attach,
Nova's bindings and the host's feed, on the app in process and an
in-process Placement."""
import logging

import pytest

from tests.inprocess import scenario
from tests.inprocess.scenario import code


@pytest.fixture
def gpus(placement, service):
    return scenario.reported_host(placement, service)


def _disable(caller, uuid, **body):
    return caller.put(f'/accelerators/{uuid}/disabled',
                      json={'disabled': True, **body})


def _report_health(service, gpus, address, health, reason=None):
    report = gpus['report']
    for unit in report['accelerators']:
        if unit['pci_address'] == address:
            unit.update(health=health, health_reason=reason)
    answer = service.put(f'/hosts/{gpus["name"]}/accelerators', json=report)
    assert answer.status_code == 200, answer.json
    return {a['pci_address']: a for a in answer.json['accelerators']}


def test_an_admin_disables_and_enables_and_every_reader_sees_why(
        admin, caller, gpus):
    uuid = gpus['uuids'][0]
    before = admin.get(f'/accelerators/{uuid}').json
    assert (before['disabled'], before['disabled_reason']) == (False, None)

    answer = _disable(admin, uuid, reason='RMA 4711')
    assert answer.status_code == 200, answer.json
    assert (answer.json['disabled'], answer.json['disabled_reason']) == (
        True, 'RMA 4711')
    assert answer.json['disabled_at']
    assert answer.json['revision'] == before['revision'] + 1
    assert answer.headers['ETag'] == f'"{answer.json["revision"]}"'
    reader = caller(token='reader', roles='reader', project_id='p1')
    assert reader.get(f'/accelerators/{uuid}').json['disabled_reason'] == (
        'RMA 4711')

    same = _disable(admin, uuid, reason='RMA 4711')
    assert same.json['revision'] == answer.json['revision']

    enabled = admin.put(f'/accelerators/{uuid}/disabled',
                        json={'disabled': False})
    assert (enabled.json['disabled'], enabled.json['disabled_reason'],
            enabled.json['disabled_at']) == (False, None, None)


@pytest.mark.parametrize('roles', ['member', 'reader', 'service'])
def test_only_admins_disable(caller, gpus, roles):
    answer = _disable(caller(token='someone', roles=roles, project_id='p1'),
                      gpus['uuids'][0])
    assert (answer.status_code, code(answer)) == (403, 'api.forbidden')


@pytest.mark.parametrize('body', [
    {}, {'disabled': 'yes'}, {'disabled': False, 'reason': 'why'},
    {'disabled': True, 'reason': 'x' * 256}, {'disabled': True, 'by': 'me'},
    {'disabled': True, 'reason': 'a\x00b'}])
def test_bad_bodies_are_400(admin, gpus, body):
    answer = admin.put(f'/accelerators/{gpus["uuids"][0]}/disabled',
                       json=body)
    assert (answer.status_code, code(answer)) == (400, 'api.invalid_input')


def test_unknown_accelerator_is_404(admin):
    answer = _disable(admin, '0b1c8f7e-5d43-4a43-9d7c-0f1e2d3c4b5a')
    assert (answer.status_code, code(answer)) == (
        404, 'accelerator.not_found')


def test_device_reports_keep_the_disabling_and_the_feed_names_it(
        admin, service, gpus):
    _disable(admin, gpus['uuids'][1], reason='fan')
    shown = _report_health(service, gpus, '0000:3b:00.0', 'healthy')
    assert shown['0000:3b:00.1']['disabled'] is True
    feed = service.get(f'/hosts/{gpus["name"]}/attachments').json
    assert feed['units'] == {'disabled': ['0000:3b:00.1'], 'held': []}


def test_health_comes_from_the_report_with_the_time_it_changed(
        service, gpus):
    first = _report_health(service, gpus, '0000:3b:00.0', 'unhealthy',
                           'AER aer_dev_fatal grew')['0000:3b:00.0']
    assert (first['health'], first['health_reason']) == (
        'unhealthy', 'AER aer_dev_fatal grew')
    again = _report_health(service, gpus, '0000:3b:00.0', 'unhealthy',
                           'AER aer_dev_fatal grew')['0000:3b:00.0']
    assert (again['health_since'], again['revision']) == (
        first['health_since'], first['revision'])
    healed = _report_health(service, gpus, '0000:3b:00.0', 'healthy',
                            'ignored')['0000:3b:00.0']
    assert (healed['health'], healed['health_reason']) == ('healthy', None)
    assert healed['health_since'] > first['health_since']


def test_unhealthy_or_disabled_units_are_never_attached_or_bound(
        admin, service, placement, gpus):
    _report_health(service, gpus, '0000:3b:00.0', 'unhealthy', 'ECC')
    sick, other = gpus['uuids']
    refused = admin.put(f'/accelerators/{sick}', json={'host': gpus['name']})
    assert (refused.status_code, code(refused)) == (
        409, 'accelerator.attach.unschedulable')
    assert 'unhealthy (ECC)' in refused.json['errors'][0]['detail']
    _disable(admin, other, reason='RMA')
    refused = admin.put(f'/accelerators/{other}', json={'host': gpus['name']})
    assert (refused.status_code, code(refused)) == (
        409, 'accelerator.attach.unschedulable')

    instance = scenario.instance(placement, gpus['root'])
    placement.put(f'/allocations/{instance}', {
        'allocations': {gpus['root']: {'resources': {'VCPU': 2}},
                        gpus['pool']: {'resources': {'PGPU': 1}}},
        'consumer_generation': 1, 'project_id': 'p1', 'user_id': 'u1',
        'consumer_type': 'INSTANCE'}, microversion='1.38')
    bind = service.put(f'/instances/{instance}/bindings',
                       json={'host': gpus['name']})
    assert (bind.status_code, code(bind)) == (
        409, 'accelerator.bind.not_enough_units')
    assert 'unhealthy, disabled' in bind.json['errors'][0]['detail']

    admin.put(f'/accelerators/{other}/disabled', json={'disabled': False})
    bound = service.put(f'/instances/{instance}/bindings',
                        json={'host': gpus['name']})
    assert [b['uuid'] for b in bound.json['bindings']] == [other]


def test_a_held_unit_turning_unhealthy_stays_held_and_is_logged(
        admin, service, placement, gpus, caplog):
    held = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                     json={'host': gpus['name']})
    assert held.status_code == 200, held.json
    with caplog.at_level(logging.WARNING):
        shown = _report_health(service, gpus, '0000:3b:00.0', 'unhealthy',
                               'driver nvidia is gone')['0000:3b:00.0']
    assert shown['attachment']['holds_accelerator']
    assert shown['health'] == 'unhealthy'
    assert any('turned unhealthy while held' in r.getMessage()
               and gpus['uuids'][0] in r.getMessage()
               for r in caplog.records)
    feed = service.get(f'/hosts/{gpus["name"]}/attachments').json
    assert feed['units']['held'] == ['0000:3b:00.0']
    listed = admin.get('/accelerators?health=unhealthy').json['accelerator']
    assert [a['uuid'] for a in listed] == [gpus['uuids'][0]]
    assert [a['uuid'] for a in admin.get(
        '/accelerators?health=healthy').json['accelerator']] == [
        gpus['uuids'][1]]
    bad = admin.get('/accelerators?health=sick')
    assert (bad.status_code, code(bad)) == (400, 'api.invalid_input')
