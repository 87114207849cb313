"""openstacksdk's ``conn.accelerator`` against a real ``cyborg-api``: every
resource (device profiles, accelerator requests, devices, deployables) and
every operation of them the proxy offers and we serve, as the SDK sends
them (its own bodies, paths and microversions)."""
import uuid

import openstack
from openstack import exceptions as sdk_exceptions
import pytest

from tests.inprocess import scenario
from tools.harness.api_server import make_host


@pytest.fixture
def sdk(api_server):
    """A connection on the /v2 endpoint with noauth's admin token, asking
    for microversion 2.3 by default (as the CLI's --os-accelerator-api-
    version does)."""
    conn = openstack.connect(
        auth_type='admin_token', auth={'endpoint': api_server.url + '/v2',
                                       'token': 'admin'},
        accelerator_default_microversion='2.3', load_yaml_config=False,
        load_envvars=False)
    yield conn.accelerator
    conn.close()


@pytest.fixture
def gpus(api_server, placement, unique_name):
    host = make_host(placement, unique_name, units=2)
    service = api_server.client(token='agent', roles='service')
    reported = service.put(f'/hosts/{unique_name}/accelerators',
                           json=host['report'])
    assert reported.status_code == 200, reported.text
    scenario.add_vcpus(placement, host)
    return dict(host, name=unique_name,
                uuids=[a['uuid'] for a in reported.json()['accelerators']])


def test_device_profiles(sdk, unique_name):
    groups = [{'resources:PGPU': '1',
               'trait:CUSTOM_ACCEL_PRODUCT_10DE_2330': 'required'}]
    made = sdk.create_device_profile(name=unique_name, groups=groups,
                                     description='one GPU')
    assert (made.name, made.groups, made.description) == (
        unique_name, groups, 'one GPU')
    assert made.uuid and made.id == made.uuid
    assert unique_name in [p.name for p in sdk.device_profiles()]
    assert sdk.get_device_profile(made.uuid).groups == groups
    assert sdk.get_device_profile(unique_name).uuid == made.uuid  # 2.2
    with pytest.raises(sdk_exceptions.ConflictException):
        sdk.create_device_profile(name=unique_name, groups=groups)
    with pytest.raises(sdk_exceptions.BadRequestException):
        sdk.create_device_profile(name=unique_name + '-x',
                                  groups=[{'trait:HW_CPU_X86_AVX': 'required'}])
    sdk.delete_device_profile(made.uuid)
    with pytest.raises(sdk_exceptions.NotFoundException):
        sdk.get_device_profile(made.uuid)


def test_accelerator_requests(sdk, api_server, placement, gpus):
    sdk.create_device_profile(name=gpus['name'],
                              groups=[{'resources:PGPU': '1'}])
    arq = sdk.create_accelerator_request(device_profile_name=gpus['name'])
    assert (arq.state, arq.device_profile_group_id) == ('Initial', 0)
    assert arq.uuid in [a.uuid for a in sdk.accelerator_requests()]
    instance = scenario.schedule(placement, gpus, 1)

    sdk.patch_accelerator_request(arq.uuid, [
        {'op': 'add', 'path': '/hostname', 'value': gpus['name']},
        {'op': 'add', 'path': '/device_rp_uuid', 'value': gpus['pool']},
        {'op': 'add', 'path': '/instance_uuid', 'value': instance}])

    bound = sdk.get_accelerator_request(arq.uuid)
    assert (bound.state, bound.instance_uuid, bound.device_rp_uuid,
            bound.attach_handle_type) == ('Bound', instance, gpus['pool'],
                                          'PCI')
    info = bound.attach_handle_info
    assert (f'{info["domain"]}:{info["bus"]}:{info["device"]}.'
            f'{info["function"]}') in {
        u['pci_address'] for u in gpus['report']['accelerators']}
    sdk.patch_accelerator_request(arq.uuid, [
        {'op': 'remove', 'path': p}
        for p in ('/hostname', '/device_rp_uuid', '/instance_uuid')])
    assert sdk.get_accelerator_request(arq.uuid).state == 'Initial'
    sdk.delete_accelerator_request(arq.uuid)
    with pytest.raises(sdk_exceptions.NotFoundException):
        sdk.get_accelerator_request(arq.uuid)


def test_devices_and_deployables(sdk, gpus):
    mine = [d for d in sdk.devices(hostname=gpus['name'])]
    assert [d.uuid for d in mine] == gpus['uuids']
    device = sdk.get_device(gpus['uuids'][0])
    assert (device.type, device.vendor, device.model, device.hostname,
            device.status) == ('GPU', '10de', '2330', gpus['name'], 'enabled')
    sdk.disable_device(device.uuid)
    assert sdk.get_device(device.uuid).status == 'maintaining'
    sdk.enable_device(device.uuid)
    assert sdk.get_device(device.uuid).status == 'enabled'
    with pytest.raises(sdk_exceptions.NotFoundException):
        sdk.get_device(str(uuid.uuid4()))

    deployables = {d.id: d for d in sdk.deployables()}
    assert set(gpus['uuids']) <= set(deployables)
    one = sdk.get_deployable(gpus['uuids'][1])
    assert (one.device_id, one.num_accelerators) == (gpus['uuids'][1], 1)
