"""Crash safety with real processes: the agent (``cyborg-agent --once``) is
killed between the claim and the host action, between the action and the
report, and in the middle of a detach; the restarted agent finishes or rolls
back, and the API, Placement and the host (sysfs, domain XML) agree."""
import pathlib
import shutil
import tempfile

import pytest

from cyborg_placement import crash_points
from tests.functional.reconciler_support import guest_tool
from tools.harness import agent_host as support

GPU = support.GPUS[0]
pytestmark = pytest.mark.parametrize('api_server', ['sqlite'], indirect=True)


@pytest.fixture
def libvirt_root():
    """Short enough for QEMU's monitor socket (108 bytes) under it, which a
    pytest-xdist worker's tmp_path is not."""
    root = pathlib.Path(tempfile.mkdtemp(prefix='cyborg-lv-'))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def host(placement, placement_server, api_server, tmp_path, unique_name,
         libvirt_root):
    return support.make_agent_host(
        placement, tmp_path, unique_name, api_server.url,
        placement_server.url, libvirt_uri=f'qemu:///embed?root={libvirt_root}')


def _crash(host, point):
    killed = host.run_once(crash_at=point)
    assert killed.returncode == crash_points.EXIT_STATUS, killed.stderr


def _state(admin, accel):
    return admin.get(f'/accelerators/{accel["uuid"]}').json()[
        'attachment']['state']


def _host_attach(admin, host):
    accel = support.accelerator(admin, host.name, GPU)
    assert admin.put(f'/accelerators/{accel["uuid"]}',
                     json={'host': host.name}).status_code == 200
    return accel


def _usage(placement, accel):
    return support.pool_usage(placement, accel['pool_provider_uuid'])


def test_killed_between_claim_and_action(admin, placement, host):
    accel = _host_attach(admin, host)
    _crash(host, 'before_action')
    assert _state(admin, accel) == 'attaching'
    assert host.read(GPU, 'driver_override') == '(null)\n'
    assert _usage(placement, accel) == 1

    host.settle()
    assert _state(admin, accel) == 'attached'
    assert host.read(GPU, 'driver_override') == 'vfio-pci'
    assert _usage(placement, accel) == 1


def test_killed_between_action_and_report(admin, placement, host):
    accel = _host_attach(admin, host)
    _crash(host, 'after_action')
    assert _state(admin, accel) == 'attaching'
    assert host.read(GPU, 'driver_override') == 'vfio-pci'
    assert host.journal() != []
    probe = host.sysfs.bus / 'drivers_probe'
    probe.write_text('')

    host.settle()
    assert _state(admin, accel) == 'attached'
    assert probe.read_text() == ''  # done once, not again
    assert _usage(placement, accel) == 1


def test_killed_after_action_then_detached_meanwhile_rolls_back(
        admin, placement, host):
    accel = _host_attach(admin, host)
    _crash(host, 'after_action')
    assert admin.delete(f'/accelerators/{accel["uuid"]}').status_code == 204
    assert _state(admin, accel) == 'detaching'

    host.settle()
    assert _state(admin, accel) == 'detached'
    assert host.read(GPU, 'driver_override') == '\n'
    assert _usage(placement, accel) == 0
    assert host.journal() == []


def test_killed_during_host_detach(admin, placement, host):
    accel = _host_attach(admin, host)
    host.settle()
    probe = host.sysfs.bus / 'drivers_probe'
    probe.write_text('')
    assert admin.delete(f'/accelerators/{accel["uuid"]}').status_code == 204

    _crash(host, 'during_detach')
    assert _state(admin, accel) == 'detaching'
    assert host.read(GPU, 'driver_override') == '\n'  # half restored
    assert probe.read_text() == ''
    assert _usage(placement, accel) == 1
    assert host.journal() != []

    host.settle()
    assert _state(admin, accel) == 'detached'
    assert probe.read_text() == GPU
    assert _usage(placement, accel) == 0
    assert host.journal() == []


def _libvirt_root(host) -> pathlib.Path:
    return pathlib.Path(host.libvirt_uri.split('root=', 1)[1])


def _vm(placement, admin, host):
    instance = support.instance_on(placement, host.name)
    guest_tool(_libvirt_root(host), 'define', instance)
    accel = support.accelerator(admin, host.name, GPU)
    assert admin.put(f'/accelerators/{accel["uuid"]}',
                     json={'instance_uuid': instance}).status_code == 200
    return instance, accel


def _hostdevs(host, instance):
    return guest_tool(_libvirt_root(host), 'hostdevs', instance)


def test_vm_killed_between_action_and_report(admin, placement, host):
    instance, accel = _vm(placement, admin, host)
    _crash(host, 'after_action')
    assert _state(admin, accel) == 'attaching'
    assert _hostdevs(host, instance) == GPU

    host.settle()
    assert _state(admin, accel) == 'attached'
    assert _hostdevs(host, instance) == GPU
    assert _usage(placement, accel) == 1


def test_vm_killed_during_detach(admin, placement, host):
    instance, accel = _vm(placement, admin, host)
    host.settle()
    assert admin.delete(f'/accelerators/{accel["uuid"]}').status_code == 204

    _crash(host, 'during_detach')
    assert _state(admin, accel) == 'detaching'
    assert _hostdevs(host, instance) == ''
    assert _usage(placement, accel) == 1

    host.settle()
    assert _state(admin, accel) == 'detached'
    assert _usage(placement, accel) == 0
    assert host.journal() == []


def test_restart_rolls_back_what_the_api_no_longer_holds(
        admin, placement, host):
    """Killed after binding; meanwhile the attachment ended without this
    agent (an operator reported it failed). The fresh agent's full resync
    finds the journal entry of an inactive attachment and restores the unit."""
    accel = _host_attach(admin, host)
    _crash(host, 'after_action')
    attachment = admin.get(f'/accelerators/{accel["uuid"]}').json()[
        'attachment']
    assert admin.put(f'/attachments/{attachment["uuid"]}/state', json={
        'state': 'attach_failed', 'reason': 'given up by the operator'}
    ).status_code == 200
    assert _usage(placement, accel) == 0
    assert host.read(GPU, 'driver_override') == 'vfio-pci'

    done = host.settle()
    assert 'Rolling back attachment' in done.stderr
    assert host.read(GPU, 'driver_override') == '\n'
    assert host.journal() == []
    assert _state(admin, accel) == 'attach_failed'
