"""Servers booted through Nova onto vGPU pools: created when bound.

Run by tests/functional/test_nova_vgpu.py in a process of its own (see
tools/harness/nova_services.py). The compute host has two H200s in vGPU
mode (vendor-specific VFIO), a sysfs tree whose vGPU manager is the
harness's stand-in (a thread of this process, playing the kernel's part
on the files the driver's privileged writes change), and our agent
publishing VGPU pools of two profiles from an ``[agent] device_rule``.
The driver makes vGPUs through the agent's command (``[accelerator_api]
vgpu_command``), run as root here: it forks its privileged daemon.
"""
import os
import sys

import requests

from tools.harness import catalog
from tools.harness import ini
from tools.harness import nova_services
from tools.harness import sysfs_tree
from tools.harness import vgpu_manager
from tools.harness.guest_xml import hostdev_sources
from tools.harness.guest_xml import mdev_sources

GPUS = ('0000:41:00.0', '0000:51:00.0')
RULE = ('{"product_id": "2335", "vgpu_profiles": '
        '{"NVIDIA H200X-1-18C": 7, "NVIDIA H200X-141C": 1}}')
A100 = '0000:81:00.0'
A100_RULE = '{"product_id": "20f1", "vgpu_profiles": {"GRID A100-4C": 10}}'
SLICE = 'CUSTOM_VGPU_NVIDIA_H200X_1_18C'
WHOLE = 'CUSTOM_VGPU_NVIDIA_H200X_141C'
A100_4C = 'CUSTOM_VGPU_GRID_A100_4C'


class VgpuServicesTest(nova_services.AcceleratorServicesTestBase):
    """One compute host whose GPUs are shared as vGPUs."""

    FUNCTIONS = [catalog.nvidia_h200_vgpu(address, vfs=8)
                 for address in GPUS]
    RULES = (RULE,)

    def setUp(self):
        super().setUp()
        self.flags(compute_driver=nova_services.ext_compute.COMPUTE_DRIVER)
        self.host = f'cn-{os.urandom(4).hex()}'
        self.tree = sysfs_tree.build(self.workdir / self.host / 'sys',
                                     self.FUNCTIONS)
        self.manager = vgpu_manager.VgpuManager(self.tree, self.FUNCTIONS)
        self.manager.__enter__()
        self.addCleanup(self.manager.__exit__)
        conf = ini.write(self.workdir / self.host / 'vgpu.conf', {'agent': {
            'sysfs_root': self.tree.root, 'resource_provider_name': self.host}})
        self.flags(group='accelerator_api', vgpu_command=[
            sys.executable, '-m', 'cyborg_agent.cmd.agent', '--config-file',
            str(conf)])
        self.start_compute(self.host)
        self.publish()

    def publish(self):
        """One agent cycle: Placement follows what the driver lists."""
        self.manager.settle()
        self.run_agent(self.host, tree=self.tree, rules=self.RULES)

    def vgpu_flavor(self, trait: str) -> str:
        return self._create_flavor(
            name=f'vgpu-{os.urandom(3).hex()}', vcpu=1, memory_mb=512,
            disk=1, ephemeral=0, extra_spec={
                'resources:VGPU': '1', f'trait:{trait}': 'required'})

    def offered(self, trait: str) -> int:
        """VGPU the host's pool of the profile offers now."""
        found = self.placement.get(
            f'/resource_providers?required={trait}',
            version='1.18').body['resource_providers']
        self.assertEqual(1, len(found), found)
        uuid = found[0]['uuid']
        inventory = self.placement.get(
            f'/resource_providers/{uuid}/inventories').body['inventories']
        usages = self.placement.get(
            f'/resource_providers/{uuid}/usages').body['usages']
        vgpu = inventory['VGPU']
        return vgpu['total'] - vgpu['reserved'] - usages['VGPU']

    def xml(self, server: dict) -> str:
        conn = self.computes[self.host].driver._host.get_connection()
        return conn.lookupByUUIDString(server['id']).XMLDesc(0)

    def current(self, vf: str) -> str:
        return (self.tree.device_dir(vf) / 'nvidia' / 'current_vgpu_type'
                ).read_text().strip()

    def bound(self, server: dict) -> list[dict]:
        answer = requests.get(
            f'{os.environ[nova_services.API_URL]}/instances/{server["id"]}'
            '/bindings', headers=nova_services.admin_headers(), timeout=30)
        self.assertEqual(200, answer.status_code, answer.text)
        return answer.json()['bindings']

    def assert_vf_of(self, server: dict, type_id: str) -> str:
        """The guest has one unmanaged VF, the one bound, which holds a
        vGPU of ``type_id``."""
        [unit] = self.bound(server)
        self.assertEqual(type_id, unit['vgpu_type'])
        vf = unit['pci_address']
        self.assertEqual([vf], hostdev_sources(self.xml(server), 'no'))
        self.assertEqual([], hostdev_sources(self.xml(server), 'yes'))
        self.manager.settle()
        self.assertEqual(type_id, self.current(vf))
        return vf


class H200VgpuTest(VgpuServicesTest):

    def test_two_profiles_fill_shrink_free_and_come_back(self):
        whole, slice_ = self.vgpu_flavor(WHOLE), self.vgpu_flavor(SLICE)
        self.assertEqual((2, 14), (self.offered(WHOLE), self.offered(SLICE)))

        card = self.boot(whole)
        card_vf = self.assert_vf_of(card, '1428')
        self.publish()
        # the GPU holding the whole card offers nothing more
        self.assertEqual((1, 7), (self.offered(WHOLE), self.offered(SLICE)))

        slices = [self.boot(slice_) for _ in range(7)]
        slice_vfs = [self.assert_vf_of(s, '1414') for s in slices]
        self.assertEqual(7, len(set(slice_vfs)))
        self.assertEqual({GPUS[1]}, {
            u['parent_address'] for s in slices for u in self.bound(s)})
        self.publish()
        self.assertEqual((0, 0), (self.offered(WHOLE), self.offered(SLICE)))
        past = self.boot(slice_, expected_state='ERROR')
        self.assertIn('No valid host', past['fault']['message'])

        self._delete_server(card)
        self.manager.settle()
        self.assertEqual('0', self.current(card_vf))
        self.publish()
        # the first GPU is free again: one whole card, or seven slices
        self.assertEqual((1, 7), (self.offered(WHOLE), self.offered(SLICE)))

        # the host rebooted: its vGPUs are gone; a hard reboot makes them
        self.manager.lose_all()
        self._reboot_server(slices[0], hard=True)
        self.assertEqual(slice_vfs[0], self.assert_vf_of(slices[0], '1414'))


class A100MdevTest(VgpuServicesTest):
    FUNCTIONS = [catalog.nvidia_a100_mdev(A100, vfs=4)]
    RULES = (A100_RULE,)

    def test_an_mdev_is_made_for_the_guest_and_deleted_with_it(self):
        server = self.boot(self.vgpu_flavor(A100_4C))
        [unit] = self.bound(server)
        self.assertEqual('mdev', unit['vgpu_interface'])
        self.assertEqual([unit['mdev_uuid']], mdev_sources(self.xml(server)))
        mdev = self.tree.root / 'bus' / 'mdev' / 'devices' / unit['mdev_uuid']
        self.assertTrue(mdev.exists())
        self.assertEqual(unit['pci_address'], mdev.resolve().parent.name)
        self._delete_server(server)
        self.manager.settle()
        self.assertFalse(mdev.exists())
