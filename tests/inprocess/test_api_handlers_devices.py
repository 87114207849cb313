"""``/v2/devices`` and ``/v2/deployables``: our reported units as Cyborg's
clients list them, ``status`` from 2.3, enable and disable."""
import json

import pytest

from tests.conftest import make_conf
from tests.inprocess import scenario
from tests.inprocess.scenario import code
from tests.inprocess.scenario import v2
from tools.harness import ini


@pytest.fixture
def gpus(placement, service):
    return scenario.reported_host(placement, service, units=2)


def test_each_reported_unit_is_a_device_and_a_deployable(caller, gpus):
    reader = v2(caller())
    listed = reader.get('/v2/devices')
    assert listed.status_code == 200
    devices = listed.json['devices']
    assert [d['uuid'] for d in devices] == gpus['uuids']
    first = devices[0]
    assert (first['id'], first['type'], first['vendor'], first['model'],
            first['hostname'], first['status']) == (
        gpus['uuids'][0], 'GPU', '10de', '2330', scenario.HOST, 'enabled')
    assert json.loads(first['std_board_info'])['pci_address'] == (
        gpus['report']['accelerators'][0]['pci_address'])
    assert reader.get(f'/v2/devices/{first["uuid"]}').json == first
    deployables = reader.get('/v2/deployables').json['deployables']
    assert [(d['uuid'], d['device_id'], d['rp_uuid'], d['num_accelerators'])
            for d in deployables] == [(u, u, gpus['pool'], 1)
                                      for u in gpus['uuids']]
    assert reader.get(f'/v2/deployables/{gpus["uuids"][1]}'
                      ).json == deployables[1]


def test_a_project_reader_sees_no_host_or_pci_address(caller, gpus):
    reader = v2(caller(token='r', roles='reader', project_id='p1'))
    device = reader.get('/v2/devices').json['devices'][0]
    assert device['uuid'] == gpus['uuids'][0]
    assert 'hostname' not in device
    assert 'pci_address' not in json.loads(device['std_board_info'])
    deployable = reader.get('/v2/deployables').json['deployables'][0]
    assert 'rp_uuid' not in deployable and 'name' not in deployable
    assert reader.get(
        f'/v2/devices?hostname={scenario.HOST}').json['devices'] == []


def test_filters_and_status_from_2_3(caller, gpus):
    client = v2(caller(), '2.2')
    assert 'status' not in client.get('/v2/devices').json['devices'][0]
    v2(client, '2.3')
    for query, count in (('hostname=' + scenario.HOST, 2),
                         ('hostname=other', 0), ('type=GPU', 2),
                         ('type=FPGA', 0), ('vendor=10de', 2),
                         # Longer than any vendor id: matches nothing.
                         ('vendor=fake_vendor', 0), ('type=fake_type', 0)):
        found = client.get(f'/v2/devices?{query}').json['devices']
        assert len(found) == count, query
    refused = client.get('/v2/devices?host=x')
    assert refused.status_code == 400
    assert 'host' in refused.json['errors'][0]['detail']
    # What no column can hold is still refused, with the reason.
    for query in ('vendor=' + 'x' * 256, 'type=a%00b'):
        refused = client.get(f'/v2/devices?{query}')
        assert refused.status_code == 400, query
        assert refused.json['errors'][0]['detail']


def test_disable_and_enable(caller, admin, gpus):
    unit = gpus['uuids'][0]
    member = v2(caller(token='m', roles='member', project_id='p1'))
    assert member.post(f'/v2/devices/{unit}/disable').status_code == 403
    operator = v2(caller())
    # As Cyborg: 200 without a body, and its status words.
    disabled = operator.post(f'/v2/devices/{unit}/disable')
    assert (disabled.status_code, disabled.data) == (200, b'')
    assert operator.get(f'/v2/devices/{unit}').json['status'] == 'maintaining'
    assert operator.post(f'/v2/devices/{unit}/enable').status_code == 200
    assert operator.get(f'/v2/devices/{unit}').json['status'] == 'enabled'
    missing = operator.post('/v2/devices/6a0e5e0c-3d6f-4c56-9a57-'
                            '1f0a4b8c2d11/enable')
    assert (missing.status_code, code(missing)) == (
        404, 'accelerator.not_found')
    assert operator.get('/v2/devices/not-a-uuid').status_code == 400


def test_a_device_disabled_through_cyborgs_call_goes_to_nobody_new(
        caller, admin, gpus):
    unit = gpus['uuids'][0]
    operator = v2(caller())
    assert admin.put(f'/accelerators/{unit}/disabled', json={
        'disabled': True, 'reason': 'RMA 4711'}).status_code == 200
    assert operator.post(f'/v2/devices/{unit}/disable').status_code == 200
    shown = admin.get(f'/accelerators/{unit}').json
    assert (shown['disabled'], shown['disabled_reason']) == (True, 'RMA 4711')
    refused = admin.put(f'/accelerators/{unit}', json={'host': scenario.HOST})
    assert (refused.status_code, code(refused)) == (
        409, 'accelerator.attach.unschedulable')
    operator.post(f'/v2/devices/{unit}/enable')
    assert admin.get(f'/accelerators/{unit}').json['disabled'] is False


#: The rule that shows Cyborg's clients a unit's host as Cyborg does
#: (docs/operator-guide.md, "Matching Cyborg's visibility").
AS_CYBORG = 'rule:admin_api or rule:service_api or role:member or role:reader'


def test_the_documented_rule_shows_hosts_as_cyborg(api_conf, make_app,
                                                    placement, tmp_path,
                                                    placement_endpoint):
    """Our default hides a free unit's host from a project reader (as Nova
    hides hypervisors); ``accelerator:show:host`` opened as the operator
    guide says shows it, and ``?hostname=`` finds it, as in Cyborg."""
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text(f'"accelerator:show:host": "{AS_CYBORG}"\n')
    app = make_app(make_conf(tmp_path, {
        'api': {'auth_strategy': 'noauth'},
        'database': {'connection': api_conf.database.connection},
        'placement': ini.token_auth(placement_endpoint),
        'oslo_policy': {'policy_file': str(policy_file)}}))

    def client(token, roles, project):
        made = app.test_client()
        made.environ_base.update({'HTTP_X_AUTH_TOKEN': token,
                                  'HTTP_X_ROLES': roles,
                                  'HTTP_X_PROJECT_ID': project})
        return made
    scenario.reported_host(placement, client('agent', 'service', 'svc'))
    reader = v2(client('r', 'reader', 'p1'))
    device = reader.get('/v2/devices').json['devices'][0]
    assert device['hostname'] == scenario.HOST
    assert len(reader.get(f'/v2/devices?hostname={scenario.HOST}'
                          ).json['devices']) == 2
    assert reader.get('/v2/deployables').json['deployables'][0]['rp_uuid']
    # The PCI address has a rule of its own, still closed.
    assert 'pci_address' not in json.loads(device['std_board_info'])
