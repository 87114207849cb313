"""A host's service calls: the agent's device report and the reconciler's
feed of attachment changes."""
import pytest

from cyborg_placement import vocabulary
from tests.inprocess import scenario
from tests.inprocess.scenario import code
from tools.harness.api_server import make_host

HOST = scenario.HOST


@pytest.fixture
def host(placement):
    return make_host(placement, HOST, units=2)


def _report(service, units):
    return service.put(f'/hosts/{HOST}/accelerators',
                       json={'accelerators': units})


def test_a_report_creates_records_and_a_repeat_keeps_them(service, host):
    first = _report(service, host['report']['accelerators'])
    assert first.status_code == 200
    records = first.json['accelerators']
    assert [(a['name'], a['state'], a['pool_provider_uuid']) for a in records
            ] == [(f'{HOST}:0000:3b:00.{n}', 'available', host['pool'])
                  for n in range(2)]
    again = _report(service, host['report']['accelerators'])
    assert [a['uuid'] for a in again.json['accelerators']] == [
        a['uuid'] for a in records]
    assert [a['revision'] for a in again.json['accelerators']] == [
        a['revision'] for a in records]


def test_a_vanished_unit_goes_unless_it_is_attached(admin, service, host):
    units = host['report']['accelerators']
    records = _report(service, units).json['accelerators']
    admin.put(f'/accelerators/{records[0]["uuid"]}', json={'host': HOST})

    assert _report(service, []).status_code == 200
    listed = admin.get('/accelerators', query_string={'host': HOST})
    assert [(a['uuid'], a['state']) for a in listed.json['accelerator']] == [
        (records[0]['uuid'], 'missing')]
    back = _report(service, units[:1]).json['accelerators']
    assert [(a['uuid'], a['state']) for a in back] == [
        (records[0]['uuid'], 'available')]


def test_reports_naming_a_unit_twice_or_malformed_are_400(service, host):
    unit = host['report']['accelerators'][0]
    twice = _report(service, [unit, dict(unit, pci_address='0000:3B:00.0')])
    assert (twice.status_code, code(twice)) == (400, 'api.invalid_input')
    assert '0000:3b:00.0' in twice.json['errors'][0]['detail']
    for bad in (dict(unit, device_type='TPU'), dict(unit, pci_address='3b:0'),
                dict(unit, colour='red')):
        answer = _report(service, [bad])
        assert (answer.status_code, code(answer)) == (400, 'api.invalid_input')


def test_the_feed_lists_changes_after_a_revision(admin, service, host):
    records = _report(service, host['report']['accelerators']).json[
        'accelerators']
    empty = service.get(f'/hosts/{HOST}/attachments')
    assert empty.json == {'attachments': [], 'revision': 0,
                          'units': {'disabled': [], 'held': []},
                          'report_digest': vocabulary.report_digest(
                              {'accelerators': host['report'][
                                  'accelerators']})}

    accel = f'/accelerators/{records[0]["uuid"]}'
    attachment = admin.put(accel, json={'host': HOST}).json['attachment']
    feed = service.get(f'/hosts/{HOST}/attachments').json
    assert [(a['uuid'], a['state'], a['pci_address'])
            for a in feed['attachments']] == [
        (attachment['uuid'], 'attaching', '0000:3b:00.0')]
    assert feed['units'] == {'disabled': [], 'held': ['0000:3b:00.0']}
    since = {'changes_since': feed['revision']}
    assert service.get(f'/hosts/{HOST}/attachments', query_string=since
                       ).json['attachments'] == []

    admin.delete(accel)
    later = service.get(f'/hosts/{HOST}/attachments', query_string=since).json
    assert [a['state'] for a in later['attachments']] == ['detaching']
    assert later['revision'] > feed['revision']


@pytest.mark.parametrize('params', [
    {'changes_since': -1}, {'changes_since': 'x'}, {'limit': 0}])
def test_bad_feed_parameters_are_400(service, params):
    answer = service.get(f'/hosts/{HOST}/attachments', query_string=params)
    assert (answer.status_code, code(answer)) == (400, 'api.invalid_input')


def test_only_services_and_admins_call_the_host_endpoints(caller, host):
    member = caller(token='member', roles='member', project_id='p1')
    for answer in (_report(member, host['report']['accelerators']),
                   member.get(f'/hosts/{HOST}/attachments')):
        assert (answer.status_code, code(answer)) == (403, 'api.forbidden')


def test_the_feed_says_which_report_the_api_holds(service, host):
    """The digest of the host's last accepted report: its agent sends the
    report again when its own differs (none yet: a new database)."""
    def holds():
        return service.get(f'/hosts/{HOST}/attachments').json[
            'report_digest']

    assert holds() is None
    units = host['report']['accelerators']
    _report(service, units)
    assert holds() == vocabulary.report_digest({'accelerators': units})
    _report(service, units[:1])
    assert holds() == vocabulary.report_digest({'accelerators': units[:1]})
