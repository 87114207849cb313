"""ARQs of vGPU pools, as stock Nova 34 binds and reads them: mdev units
come as MDEV attach handles Nova's libvirt driver creates the mdev from;
vendor-VFIO units are refused, naming why."""
import pytest

from tests.inprocess import scenario
from tests.inprocess.scenario import code
from tests.inprocess.scenario import v2


def _nova(caller):
    """Nova's Cyborg client (the server owner's token, no microversion),
    with a profile asking for one vGPU."""
    made = v2(caller()).post('/v2/device_profiles', json=[{
        'name': 'one-vgpu', 'groups': [{'resources:VGPU': '1'}]}])
    assert made.status_code == 201, made.json
    return v2(caller(token='user', roles='member,reader', project_id='p1',
                     user_id='u1'), version=None)


def _bind_one(nova, placement, host):
    """The ARQ, and the answer of binding it for an instance Nova put on
    ``host`` (one unit of its VGPU pool)."""
    [arq] = nova.post('/v2/accelerator_requests',
                      json={'device_profile_name': 'one-vgpu'}).json['arqs']
    instance = scenario.schedule(placement, host, 1, resource_class='VGPU')
    return arq, nova.patch('/v2/accelerator_requests', json={
        arq['uuid']: [
            {'path': '/hostname', 'op': 'add', 'value': scenario.HOST},
            {'path': '/device_rp_uuid', 'op': 'add', 'value': host['pool']},
            {'path': '/instance_uuid', 'op': 'add', 'value': instance}]})


@pytest.fixture
def reported(placement, service):
    def report(interface):
        host = scenario.add_vcpus(
            placement, scenario.vgpu_host(placement, scenario.HOST,
                                          interface))
        answer = service.put(f'/hosts/{scenario.HOST}/accelerators',
                             json=host['report'])
        assert answer.status_code == 200, answer.json
        return host
    return report


def test_an_mdev_unit_is_an_mdev_attach_handle(caller, placement, reported):
    nova = _nova(caller)
    host = reported('mdev')
    asked, bound = _bind_one(nova, placement, host)

    assert bound.status_code == 200, bound.json
    arq = nova.get(f'/v2/accelerator_requests/{asked["uuid"]}').json
    unit = {u['mdev_uuid']: u for u in host['report']['accelerators']}[
        arq['attach_handle_uuid']]
    domain, bus, rest = unit['pci_address'].split(':')
    device, function = rest.split('.')
    # What _allocate_cyborg_mdevs reads: the parent (the VF) and the type.
    assert (arq['state'], arq['attach_handle_type'],
            arq['attach_handle_info']) == ('Bound', 'MDEV', {
                'domain': domain, 'bus': bus, 'device': device,
                'function': function, 'asked_type': 'nvidia-692'})


def test_a_vendor_vfio_unit_is_refused_naming_why(caller, placement,
                                                  reported):
    nova = _nova(caller)
    host = reported('vfio')
    arq, refused = _bind_one(nova, placement, host)

    assert (refused.status_code, code(refused)) == (
        409, 'accelerator_request.bind.vfio_vgpu')
    detail = refused.json['errors'][0]['detail']
    assert "managed='yes'" in detail and host['pool'] in detail
    assert nova.get(f'/v2/accelerator_requests/{arq["uuid"]}'
                    ).json['state'] == 'Initial'  # nothing was bound
