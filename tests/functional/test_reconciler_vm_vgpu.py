"""A vGPU unit attached to a guest by REST (``PUT /accelerators/{uuid}``):
the real API server and Placement, the agent publishing and reporting an
H200 (vendor-specific VFIO) and an A100 (mdev) in vGPU mode, the vGPU
manager's stand-in playing the kernel, and the reconciler on the real
embedded libvirt making the vGPU, putting it into the guest and deleting
it after the detach."""
import pytest

from cyborg_agent.privileged.vgpu import VgpuTree
from cyborg_agent.reconciler import Reconciler
from tools.harness import agent_host as support
from tools.harness import catalog
from tools.harness import sysfs_tree
from tools.harness import vgpu_manager
from tools.harness.guest_xml import hostdev_sources
from tools.harness.guest_xml import mdev_sources
from tools.harness.nova_compute import create_compute_node

H200, A100 = '0000:41:00.0', '0000:81:00.0'
RULES = ['{"product_id": "2335", "vgpu_profiles": '
         '{"NVIDIA H200X-1-18C": 7, "NVIDIA H200X-141C": 1}}',
         '{"product_id": "20f1", "vgpu_profiles": {"GRID A100-4C": 10}}']
SLICE, WHOLE, A100_4C = ('NVIDIA H200X-1-18C', 'NVIDIA H200X-141C',
                         'GRID A100-4C')


@pytest.fixture
def host(placement, placement_server, api_server, tmp_path, unique_name):
    """The agent's host, its vGPU manager running while the test does."""
    create_compute_node(placement, unique_name)
    functions = [catalog.nvidia_h200_vgpu(H200, vfs=2),
                 catalog.nvidia_a100_mdev(A100, vfs=2)]
    tree = sysfs_tree.build(tmp_path / 'sys', functions)
    with vgpu_manager.VgpuManager(tree, functions) as manager:
        agent = support.AgentHost(
            unique_name, tmp_path, tree, api_server.url, placement_server.url,
            agent_options={'device_rule': RULES})
        agent.write_conf()
        agent.settle()
        agent.manager = manager
        yield agent


def _reconciler(host, conn, changed: list | None = None) -> Reconciler:
    """``changed`` gets a None each time a vGPU was made or deleted (the
    daemon publishes then)."""
    return support.vm_reconciler(
        host, conn, entry_points=VgpuTree(host.sysfs.root, frozenset()),
        vgpu_changed=None if changed is None
        else lambda: changed.append(None))


def _unit(admin, host, profile: str, vf_index: int = 0) -> dict:
    units = [a for a in admin.get('/accelerators', params={
        'host': host.name}).json()['accelerator']
        if a['vgpu_profile'] == profile]
    return sorted(units, key=lambda a: a['pci_address'])[vf_index]


def _attach(admin, unit: dict, instance: str) -> None:
    answer = admin.put(f'/accelerators/{unit["uuid"]}',
                       json={'instance_uuid': instance})
    assert answer.status_code == 200, answer.text


def _attachment(admin, unit: dict) -> tuple[str, str | None]:
    shown = admin.get(f'/accelerators/{unit["uuid"]}').json()['attachment']
    return shown['state'], shown['reason']


def _current(host, vf: str) -> str:
    host.manager.settle()
    return host.read(vf, 'nvidia/current_vgpu_type').strip()


def test_a_vendor_vfio_vgpu_is_made_attached_and_deleted(
        admin, placement, host, libvirt_embed):
    instance = support.instance_on(placement, host.name)
    guest = libvirt_embed.define_guest(instance_uuid=instance)
    unit = _unit(admin, host, SLICE)
    vf = unit['pci_address']
    assert _current(host, vf) == '0'
    _attach(admin, unit, instance)
    changed = []
    reconciler = _reconciler(host, libvirt_embed.conn, changed)

    reconciler.run_pass()
    assert _attachment(admin, unit) == ('attached', None)
    assert _current(host, vf) == unit['vgpu_type'] == '1414'
    assert len(changed) == 1
    xml = guest.XMLDesc(0)
    # On its vendor driver: libvirt must not rebind it to vfio-pci.
    assert (hostdev_sources(xml, 'no'), hostdev_sources(xml, 'yes')) == (
        [vf], [])
    assert support.pool_usage(placement, unit['pool_provider_uuid']) == 1

    # The host rebooted and lost its vGPUs: a fresh agent's first pass
    # checks the attachment and makes the vGPU again.
    # A fresh agent's check of a vGPU that is there changes nothing.
    _reconciler(host, libvirt_embed.conn, changed).run_pass()
    assert len(changed) == 1
    host.manager.lose_all()
    _reconciler(host, libvirt_embed.conn, changed).run_pass()
    assert _current(host, vf) == '1414'
    assert len(changed) == 2

    assert admin.delete(f'/accelerators/{unit["uuid"]}').status_code == 204
    reconciler.run_pass()
    assert _attachment(admin, unit)[0] == 'detached'
    assert len(changed) == 3
    assert hostdev_sources(guest.XMLDesc(0)) == []
    assert _current(host, vf) == '0'
    assert support.pool_usage(placement, unit['pool_provider_uuid']) == 0
    assert host.journal() == []


def test_an_mdev_is_made_attached_and_deleted(admin, placement, host,
                                              libvirt_embed):
    instance = support.instance_on(placement, host.name)
    guest = libvirt_embed.define_guest(instance_uuid=instance)
    unit = _unit(admin, host, A100_4C)
    mdev = host.sysfs.root / 'bus' / 'mdev' / 'devices' / unit['mdev_uuid']
    _attach(admin, unit, instance)
    reconciler = _reconciler(host, libvirt_embed.conn)

    reconciler.run_pass()
    assert _attachment(admin, unit) == ('attached', None)
    assert mdev.resolve().parent.name == unit['pci_address']
    assert mdev_sources(guest.XMLDesc(0)) == [unit['mdev_uuid']]
    assert hostdev_sources(guest.XMLDesc(0)) == []

    assert admin.delete(f'/accelerators/{unit["uuid"]}').status_code == 204
    reconciler.run_pass()
    assert _attachment(admin, unit)[0] == 'detached'
    assert mdev_sources(guest.XMLDesc(0)) == []
    host.manager.settle()
    assert not mdev.exists()
    assert host.journal() == []


def test_a_vgpu_the_gpu_cannot_hold_now_fails_with_the_drivers_reason(
        admin, placement, host, libvirt_embed):
    """Once a GPU holds one profile, its driver lists no other: Placement
    offers the whole-card profile until the agent's next cycle, and an
    attach in that window ends attach_failed, never in a broken guest."""
    reconciler = _reconciler(host, libvirt_embed.conn)
    first = support.instance_on(placement, host.name)
    libvirt_embed.define_guest(instance_uuid=first)
    slice_ = _unit(admin, host, SLICE, vf_index=0)
    _attach(admin, slice_, first)
    reconciler.run_pass()
    assert _attachment(admin, slice_) == ('attached', None)

    second = support.instance_on(placement, host.name)
    guest = libvirt_embed.define_guest(instance_uuid=second)
    whole = _unit(admin, host, WHOLE, vf_index=1)
    _attach(admin, whole, second)
    reconciler.run_pass()
    state, reason = _attachment(admin, whole)
    assert state == 'attach_failed'
    assert f'cannot make a vGPU of type {whole["vgpu_type"]} now' in reason
    assert hostdev_sources(guest.XMLDesc(0)) == []
    assert _current(host, whole['pci_address']) == '0'
    assert support.pool_usage(placement, whole['pool_provider_uuid']) == 0


def test_a_vgpu_cannot_be_attached_to_its_host(admin, host):
    unit = _unit(admin, host, SLICE)
    answer = admin.put(f'/accelerators/{unit["uuid"]}',
                       json={'host': host.name})
    assert answer.status_code == 409, answer.text
    error = answer.json()['errors'][0]
    assert error['code'] == 'accelerator.attach.vgpu_to_host'
    assert SLICE in error['detail']
    assert admin.get(f'/accelerators/{unit["uuid"]}').json()[
        'attachment'] is None
