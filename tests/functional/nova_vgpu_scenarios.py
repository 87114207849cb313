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

import requests

from tools.harness import catalog
from tools.harness import nova_services
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
        #: Each host's sysfs tree and vGPU manager stand-in.
        self.hosts = {}
        self.host = self.add_host()
        self.tree, self.manager = self.hosts[self.host]

    def add_host(self) -> str:
        host, tree, manager = self.start_vgpu_compute(self.FUNCTIONS,
                                                      self.RULES)
        self.hosts[host] = (tree, manager)
        return host

    def publish(self, host: str | None = None):
        """One agent cycle: Placement follows what the driver lists."""
        tree, manager = self.hosts[host or self.host]
        manager.settle()
        self.run_agent(host or self.host, tree=tree, rules=self.RULES)

    def offered(self, trait: str) -> int:
        """VGPU the hosts' pools of the profile offer now (one pool each;
        earlier cases' hosts in the same Placement aside)."""
        free = 0
        for host in self.hosts:
            [pool] = self.placement.get(
                f'/resource_providers?required={trait}&in_tree='
                f'{self._get_provider_uuid_by_host(host)}',
                version='1.18').body['resource_providers']
            inventory = self.placement.get(
                f'/resource_providers/{pool["uuid"]}/inventories'
            ).body['inventories']['VGPU']
            usages = self.placement.get(
                f'/resource_providers/{pool["uuid"]}/usages').body['usages']
            free += (inventory['total'] - inventory['reserved']
                     - usages['VGPU'])
        return free

    def xml(self, server: dict, host: str | None = None) -> str:
        conn = self.computes[host or self.host].driver._host.get_connection()
        return conn.lookupByUUIDString(server['id']).XMLDesc(0)

    def current(self, vf: str, host: str | None = None) -> str:
        """The type id the VF holds (``0``: none), once the stand-in
        has seen every write."""
        tree, manager = self.hosts[host or self.host]
        manager.settle()
        return (tree.device_dir(vf) / 'nvidia' / 'current_vgpu_type'
                ).read_text().strip()

    def bound(self, server: dict) -> list[dict]:
        answer = requests.get(
            f'{os.environ[nova_services.API_URL]}/instances/{server["id"]}'
            '/bindings', headers=nova_services.admin_headers(), timeout=30)
        self.assertEqual(200, answer.status_code, answer.text)
        return answer.json()['bindings']

    def assert_vf_of(self, server: dict, type_id: str) -> str:
        """The guest has one unmanaged VF, the one bound on its host,
        which holds a vGPU of ``type_id``."""
        host = server['OS-EXT-SRV-ATTR:host']
        [unit] = [u for u in self.bound(server) if u['host'] == host]
        self.assertEqual(type_id, unit['vgpu_type'])
        vf = unit['pci_address']
        self.assertEqual([vf], hostdev_sources(self.xml(server, host), 'no'))
        self.assertEqual([], hostdev_sources(self.xml(server, host), 'yes'))
        self.assertEqual(type_id, self.current(vf, host))
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
        self.assertEqual('0', self.current(card_vf))
        self.publish()
        # the first GPU is free again: one whole card, or seven slices
        self.assertEqual((1, 7), (self.offered(WHOLE), self.offered(SLICE)))

        # nova-compute restarts: each guest keeps its vGPU, none is made
        # twice or deleted, and the pools offer what they offered
        self.restart_vgpu_compute(self.host)
        self.assertEqual(slice_vfs,
                         [self.assert_vf_of(s, '1414') for s in slices])
        self.publish()
        self.assertEqual((1, 7), (self.offered(WHOLE), self.offered(SLICE)))

        # the host rebooted: its vGPUs are gone; a hard reboot makes them
        self.manager.lose_all()
        self._reboot_server(slices[0], hard=True)
        self.assertEqual(slice_vfs[0], self.assert_vf_of(slices[0], '1414'))
        # and so does power on
        self._stop_server(slices[1])
        self.manager.lose_all()
        self.assertEqual('0', self.current(slice_vfs[1]))
        self._start_server(slices[1])
        self.assertEqual(slice_vfs[1], self.assert_vf_of(slices[1], '1414'))


class H200EvacuateTest(VgpuServicesTest):
    """Two hosts of two H200s each."""

    def test_evacuate_makes_the_vgpu_there_the_source_deletes_its_own(self):
        self.add_host()
        server = self.boot(self.vgpu_flavor(SLICE))
        source = server['OS-EXT-SRV-ATTR:host']
        [dest] = set(self.hosts) - {source}
        source_vf = self.assert_vf_of(server, '1414')
        source_service = self.computes[source].service_ref.uuid
        self.api.put_service(source_service, {'forced_down': True})
        self.computes[source].stop()

        # Since microversion 2.95 the evacuated guest is left stopped.
        server = self._evacuate_server(server, expected_host=dest)
        dest_vf = self.assert_vf_of(server, '1414')
        # the source is down: its vGPU and binding wait for it
        self.assertEqual('1414', self.current(source_vf, source))
        self.assertEqual({source, dest},
                         {u['host'] for u in self.bound(server)})

        # back up, it destroys the evacuated guest and deletes its vGPU
        self.restart_vgpu_compute(source)
        self.api.put_service(source_service, {'forced_down': False})
        self.assertEqual('0', self.current(source_vf, source))
        self.assertEqual([dest], [u['host'] for u in self.bound(server)])
        self.assertEqual(dest_vf, self.assert_vf_of(server, '1414'))
        self.publish(source)
        self.assertEqual(14 + 13, self.offered(SLICE))


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
