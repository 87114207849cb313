"""A host attach that names its driver: ``{"host": H, "driver": D}``.

The real API validates and keeps the driver on the attachment, the real
``cyborg-agent`` binds the unit to it on a sysfs tree in preference to the
operator's rules, and ``openstack accelerator attach --driver`` sends it.
"""
import uuid

import pytest

from tests.functional import cli_runner
from tools.harness import agent_host as support
from tools.harness.api_server import make_host

GPU, OTHER_GPU = support.GPUS


def _accelerators(admin, placement, host: str) -> list[dict]:
    made = make_host(placement, host)
    response = admin.put(f'/hosts/{host}/accelerators', json=made['report'])
    assert response.status_code == 200, response.text
    return response.json()['accelerators']


@pytest.mark.parametrize('body, named', [
    ({'instance_uuid': str(uuid.uuid4()), 'driver': 'vfio-pci'}, "'host'"),
    ({'driver': 'vfio-pci'}, "'host'"),
    ({'host': 'h', 'driver': '../../../kernel/x'}, '/driver'),
    ({'host': 'h', 'driver': '..'}, '/driver'),
    ({'host': 'h', 'driver': ''}, '/driver'),
    ({'host': 'h', 'driver': 'v' * 65}, 'too long'),
    ({'host': 'h', 'driver': 7}, "not of type 'string'"),
])
def test_bad_driver_requests_are_refused_and_claim_nothing(
        admin, placement, unique_name, body, named):
    accel, _ = _accelerators(admin, placement, unique_name)
    response = admin.put(f'/accelerators/{accel["uuid"]}', json=body)
    assert response.status_code == 400, response.text
    detail = response.json()['errors'][0]['detail']
    assert 'driver' in detail and named in detail, detail
    shown = admin.get(f'/accelerators/{accel["uuid"]}').json()
    assert shown['attachment'] is None
    assert support.pool_usage(placement, accel['pool_provider_uuid']) == 0


def test_requested_driver_is_stored_and_shown(admin, placement, unique_name):
    named, plain = _accelerators(admin, placement, unique_name)
    attached = admin.put(f'/accelerators/{named["uuid"]}', json={
        'host': unique_name, 'driver': 'pci-stub'})
    assert attached.status_code == 200, attached.text
    assert attached.json()['attachment']['driver'] == 'pci-stub'
    admin.put(f'/accelerators/{plain["uuid"]}', json={'host': unique_name})

    shown = admin.get(f'/accelerators/{named["uuid"]}').json()
    assert (shown['attachment']['host'], shown['attachment']['driver']) == (
        unique_name, 'pci-stub')
    assert admin.get(f'/accelerators/{plain["uuid"]}').json()[
        'attachment']['driver'] is None
    feed = admin.get(f'/hosts/{unique_name}/attachments').json()
    assert {a['pci_address']: a['driver'] for a in feed['attachments']} == {
        named['pci_address']: 'pci-stub', plain['pci_address']: None}


@pytest.fixture
def host(placement, placement_server, api_server, tmp_path, unique_name):
    """Two T4s on nvidia; vfio-pci and pci-stub loaded; the operator's rule
    binds NVIDIA units to vfio-pci; requests may also name igb_uio."""
    made = support.make_agent_host(placement, tmp_path, unique_name,
                                   api_server.url, placement_server.url)
    made.sysfs.driver_dir('pci-stub')
    # write_conf ends with [agent]: the rule goes into that section.
    with open(made.conf_file, 'a') as conf:
        conf.write('host_attach_driver = pci-stub\n'
                   'host_attach_rule = {"vendor_id": "10de", '
                   '"driver": "vfio-pci"}\n'
                   'host_attach_allowed_drivers = igb_uio\n')
    return made


def test_requested_driver_wins_over_the_rules(admin, placement, host):
    requested = support.accelerator(admin, host.name, GPU)
    ruled = support.accelerator(admin, host.name, OTHER_GPU)
    assert admin.put(f'/accelerators/{requested["uuid"]}', json={
        'host': host.name, 'driver': 'pci-stub'}).status_code == 200
    assert admin.put(f'/accelerators/{ruled["uuid"]}', json={
        'host': host.name}).status_code == 200

    host.settle()

    for accel in (requested, ruled):
        shown = admin.get(f'/accelerators/{accel["uuid"]}').json()
        assert shown['attachment']['state'] == 'attached'
    assert host.read(GPU, 'driver_override') == 'pci-stub'
    assert host.read(OTHER_GPU, 'driver_override') == 'vfio-pci'

    assert admin.delete(f'/accelerators/{requested["uuid"]}').status_code \
        == 204
    host.settle()
    assert host.read(GPU, 'driver_override') == '\n'  # restored
    assert host.read(OTHER_GPU, 'driver_override') == 'vfio-pci'


def test_requested_driver_not_loaded_fails_and_releases(admin, placement,
                                                        host):
    accel = support.accelerator(admin, host.name, GPU)
    pool = accel['pool_provider_uuid']
    assert admin.put(f'/accelerators/{accel["uuid"]}', json={
        'host': host.name, 'driver': 'igb_uio'}).status_code == 200
    assert support.pool_usage(placement, pool) == 1

    host.settle()

    attachment = admin.get(f'/accelerators/{accel["uuid"]}').json()[
        'attachment']
    assert attachment['state'] == 'attach_failed'
    assert attachment['reason'].startswith(
        f'On host {host.name}: Driver igb_uio is not loaded')
    assert support.pool_usage(placement, pool) == 0
    assert host.read(GPU, 'driver_override') == '(null)\n'  # untouched
    assert host.journal() == []


def test_requested_driver_outside_the_allowed_set_fails_and_releases(
        admin, placement, host):
    """nvidia is loaded, but the operator allowed pci-stub, vfio-pci and
    igb_uio only: the unit stays where it is."""
    accel = support.accelerator(admin, host.name, GPU)
    assert admin.put(f'/accelerators/{accel["uuid"]}', json={
        'host': host.name, 'driver': 'nvidia'}).status_code == 200

    host.settle()

    attachment = admin.get(f'/accelerators/{accel["uuid"]}').json()[
        'attachment']
    assert attachment['state'] == 'attach_failed'
    assert attachment['reason'] == (
        f'On host {host.name}: Driver nvidia is not allowed for host '
        'attachments on this host (the attach request names it); allowed: '
        'igb_uio, pci-stub, vfio-pci, see [agent] '
        'host_attach_allowed_drivers.')
    assert support.pool_usage(placement, accel['pool_provider_uuid']) == 0
    assert host.read(GPU, 'driver_override') == '(null)\n'  # untouched
    assert host.journal() == []


def test_cli_attach_with_driver(admin, api_server, host):
    def osc(*args: str) -> cli_runner.Result:
        return cli_runner.openstack(*cli_runner.noauth_args(api_server.url),
                                    'accelerator', *args)
    accel = support.accelerator(admin, host.name, GPU)

    without_host = osc('attach', accel['uuid'], '--instance',
                       str(uuid.uuid4()), '--driver', 'pci-stub')
    assert without_host.returncode != 0
    assert '--driver is only valid with --host' in without_host.stderr
    bad = osc('attach', accel['uuid'], '--host', host.name,
              '--driver', 'a/b')
    assert bad.returncode != 0
    assert 'HTTP 400' in bad.stderr and "'a/b'" in bad.stderr
    assert admin.get(f'/accelerators/{accel["uuid"]}').json()[
        'attachment'] is None

    attached = osc('attach', accel['uuid'], '--host', host.name,
                   '--driver', 'pci-stub', '-f', 'json')
    assert attached.returncode == 0, attached.stderr
    assert attached.json()['attachment']['driver'] == 'pci-stub'
    host.settle()
    assert host.read(GPU, 'driver_override') == 'pci-stub'
