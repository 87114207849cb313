"""Host attachments end to end: REST attach, the real agent process binds
the unit to vfio-pci on its sysfs tree and reports; detach restores it.
The API's claim in the real Placement keeps the unit from Nova."""
import pytest

from tools.harness import agent_host as support
from tools.harness.server_process import free_port

GPU = support.GPUS[0]


@pytest.fixture
def host(placement, placement_server, api_server, tmp_path, unique_name):
    return support.make_agent_host(placement, tmp_path, unique_name,
                                   api_server.url, placement_server.url)


def test_host_attach_binds_vfio_and_detach_restores(admin, placement, host):
    accel = support.accelerator(admin, host.name, GPU)
    pool = accel['pool_provider_uuid']
    assert admin.put(f'/accelerators/{accel["uuid"]}',
                     json={'host': host.name}).status_code == 200
    # The API's own consumer holds the unit; the inventory reserves nothing
    # more, or the unit would count twice against Nova.
    assert support.pool_usage(placement, pool) == 1

    host.settle()
    shown = admin.get(f'/accelerators/{accel["uuid"]}').json()
    assert shown['attachment']['state'] == 'attached'
    assert host.read(GPU, 'driver_override') == 'vfio-pci'
    assert (host.sysfs.bus / 'drivers' / 'nvidia' / 'unbind').read_text() \
        == GPU
    assert (host.sysfs.bus / 'drivers_probe').read_text() == GPU
    assert host.read(support.GPUS[1], 'driver_override') == '(null)\n'
    assert support.pool_usage(placement, pool) == 1
    assert support.reserved(placement, pool) == 0

    host.settle()  # a pass with nothing new changes nothing
    assert host.read(GPU, 'driver_override') == 'vfio-pci'

    assert admin.delete(f'/accelerators/{accel["uuid"]}').status_code == 204
    assert support.pool_usage(placement, pool) == 1  # until the host acts
    done = host.settle()
    shown = admin.get(f'/accelerators/{accel["uuid"]}').json()
    assert shown['attachment']['state'] == 'detached', done.stderr
    assert host.read(GPU, 'driver_override') == '\n'
    assert support.pool_usage(placement, pool) == 0
    assert host.journal() == []


def test_feed_names_the_pci_address(admin, host):
    accel = support.accelerator(admin, host.name, support.GPUS[1])
    admin.put(f'/accelerators/{accel["uuid"]}', json={'host': host.name})
    feed = admin.get(f'/hosts/{host.name}/attachments').json()
    assert [a['pci_address'] for a in feed['attachments']] == [
        support.GPUS[1]]


def _failure_reason(admin, accel) -> str:
    """What the user reads in ``GET /accelerators/{uuid}``."""
    shown = admin.get(f'/accelerators/{accel["uuid"]}').json()
    assert shown['attachment']['state'] == 'attach_failed'
    return shown['attachment']['reason']


def test_missing_driver_fails_the_attach(admin, placement, host):
    vfio = host.sysfs.bus / 'drivers' / 'vfio-pci'
    for entry in vfio.iterdir():
        entry.unlink()
    vfio.rmdir()
    accel = support.accelerator(admin, host.name, GPU)
    admin.put(f'/accelerators/{accel["uuid"]}', json={'host': host.name})
    assert support.pool_usage(placement, accel['pool_provider_uuid']) == 1
    host.settle()
    assert support.pool_usage(placement, accel['pool_provider_uuid']) == 0
    reason = _failure_reason(admin, accel)
    assert reason.startswith(f'On host {host.name}: Driver vfio-pci is not '
                             'loaded')
    assert admin.put(f'/accelerators/{accel["uuid"]}', json={
        'host': host.name}).status_code == 200  # free again: attachable
    assert host.read(GPU, 'driver_override') == '(null)\n'
    assert host.journal() == []


def test_device_gone_fails_the_attach(admin, placement, host):
    accel = support.accelerator(admin, host.name, GPU)
    admin.put(f'/accelerators/{accel["uuid"]}', json={'host': host.name})
    host.device(GPU).unlink()  # hot-unplugged after the attach request
    host.settle()
    assert support.pool_usage(placement, accel['pool_provider_uuid']) == 0
    reason = _failure_reason(admin, accel)
    assert f'PCI device {GPU} is gone from this host' in reason
    shown = admin.get(f'/accelerators/{accel["uuid"]}').json()
    assert shown['state'] == 'missing'  # and the device report says so


def test_api_unreachable_is_one_line_and_exit_1(admin, host):
    accel = support.accelerator(admin, host.name, GPU)
    admin.put(f'/accelerators/{accel["uuid"]}', json={'host': host.name})
    api_url, host.api_url = host.api_url, f'http://127.0.0.1:{free_port()}'
    host.write_conf()
    failed = host.run_once()
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and 'accelerator API unreachable' in lines[0]
    assert host.read(GPU, 'driver_override') == '(null)\n'

    host.api_url = api_url  # back: the attach goes through
    host.write_conf()
    host.settle()
    assert host.read(GPU, 'driver_override') == 'vfio-pci'
