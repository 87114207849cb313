"""Servers whose accelerators follow their CPUs' NUMA node, through Nova.

Run by tests/functional/test_nova_numa.py in a process of its own (see
tools/harness/nova_services.py). Each host is Nova's fake libvirt with two
NUMA nodes on two sockets (CPUs 0-3 on node 0 and socket 0, 4-7 on node 1
and socket 1, all dedicated); the agent reads its H100s' ``numa_node`` and
the nodes' CPUs and package ids from a sysfs tree that says the same.
Guests are pinned (``hw:cpu_policy=dedicated``) to one node
(``hw:numa_nodes=1``); Nova spreads them over the cells, so a first guest
on an empty host goes to node 0 and the next to node 1. A guest without
accelerators on node 0 (:meth:`NumaAffinityTestBase.fill_node_0`) sends
the next guest to node 1, where the unit listed first (node 0's) is the
wrong one: the cases show which unit each policy takes there.
"""
import os
import uuid

from nova.tests.fixtures import libvirt as fakelibvirt
import requests

from tests.functional.nova_migration_scenarios import _MoveTestBase
from tools.harness import guest_xml
from tools.harness import nova_services
from tools.harness.nova_services import H100_TRAIT

#: A unit on each node: node 0's first, as the API lists free units.
ON_0, ON_1 = '0000:18:00.0', '0000:98:00.0'
BOTH_NODES = {ON_0: 0, ON_1: 1}
#: Host CPUs of each node (fakelibvirt numbers them node after node).
NODE_CPUS = {0: set(range(4)), 1: set(range(4, 8))}


def two_socket_host() -> fakelibvirt.HostInfo:
    """Two sockets of one NUMA node each, 4 cores a socket."""
    return fakelibvirt.HostInfo(cpu_nodes=1, cpu_sockets=2, cpu_cores=4,
                                cpu_threads=1)


def one_socket_two_nodes_host() -> fakelibvirt.HostInfo:
    """One socket split into two NUMA nodes (sub-NUMA clustering), 4 cores
    a node: the same CPU numbers as :func:`two_socket_host`."""
    return fakelibvirt.HostInfo(cpu_nodes=2, cpu_sockets=1, cpu_cores=4,
                                cpu_threads=1)


class NumaAffinityTestBase(_MoveTestBase):
    """Our driver, the NUMA topology filter, every host CPU dedicated."""

    ADDITIONAL_FILTERS = ['NUMATopologyFilter']

    def setUp(self):
        super().setUp()
        self.flags(cpu_dedicated_set='0-7', cpu_shared_set=None,
                   group='compute')

    def numa_compute(self, gpus: dict[str, int], host_info=None) -> str:
        """A host of :func:`two_socket_host` (or ``host_info``) with
        ``gpus`` (address -> NUMA node)."""
        return self.start_accelerator_compute(
            gpus, host_info or two_socket_host())

    def pinned_flavor(self, gpus: int = 1, memory_mb: int = 512,
                      **extra_spec: str) -> str:
        """Two dedicated CPUs on one NUMA node, ``gpus`` H100s, and the
        given extra specs (``hw:pci_numa_affinity_policy`` ...)."""
        specs = {'hw:cpu_policy': 'dedicated', 'hw:numa_nodes': '1'}
        if gpus:
            specs.update({'resources:PGPU': str(gpus),
                          f'trait:{H100_TRAIT}': 'required'})
        specs.update(extra_spec)
        return self._create_flavor(
            name=f'pinned-{uuid.uuid4().hex[:6]}', vcpu=2,
            memory_mb=memory_mb, disk=1, ephemeral=0, extra_spec=specs)

    def fill_node_0(self, host: str, memory_mb: int = 512) -> dict:
        """A pinned guest without accelerators, on node 0 of ``host``."""
        server = self.boot(self.pinned_flavor(0, memory_mb), host=host)
        self.assertEqual(0, self.guest_node(server, host))
        return server

    def guest_node(self, server: dict, host: str | None = None) -> int:
        """The one host NUMA node the guest's CPUs are pinned to and its
        memory is bound to (its libvirt XML's cputune and numatune)."""
        host = host or self._show_server(server)['OS-EXT-SRV-ATTR:host']
        domain = self.computes[host].driver._host.get_connection(
        ).lookupByUUIDString(server['id'])
        xml = domain.XMLDesc(0)
        cpus = guest_xml.pinned_cpus(xml)
        [node] = [n for n, node_cpus in NODE_CPUS.items()
                  if cpus and cpus <= node_cpus]
        self.assertEqual({node}, guest_xml.memory_nodes(xml))
        return node

    def bound(self, server: dict) -> list[tuple]:
        """(PCI address, NUMA node, socket) of each unit bound to it, as
        the API shows them."""
        answer = requests.get(
            f'{os.environ[nova_services.API_URL]}/instances/{server["id"]}'
            '/bindings', headers=nova_services.admin_headers(), timeout=30)
        self.assertEqual(200, answer.status_code, answer.text)
        return sorted((unit['pci_address'], unit['numa_node'],
                       unit['socket'])
                      for unit in answer.json()['bindings'])


class NumaAffinityBootTest(NumaAffinityTestBase):

    def test_every_policy_binds_the_unit_on_the_guests_node(self):
        host = self.numa_compute(BOTH_NODES)
        for specs in (
                {},  # Nova's default: legacy
                {'hw:pci_numa_affinity_policy': 'legacy'},
                {'hw:pci_numa_affinity_policy': 'required'},
                {'hw:pci_numa_affinity_policy': 'socket'},
                {'hw:pci_numa_affinity_policy': 'preferred'},
                {'accelerator:numa_affinity_policy': 'required'}):
            filler = self.fill_node_0(host)
            server = self.boot(self.pinned_flavor(**specs))

            self.assertEqual(1, self.guest_node(server), specs)
            self.assertEqual([ON_1], self.guest_hostdevs(server), specs)
            self.assertEqual([(ON_1, 1, 1)], self.bound(server))
            for done in (server, filler):
                self._delete_server(done)

    def test_our_policy_wins_over_novas_and_preferred_falls_back(self):
        # Only node 0 has a unit; the guest goes to node 1.
        host = self.numa_compute({ON_0: 0})
        self.fill_node_0(host)
        server = self.boot(self.pinned_flavor(**{
            'hw:pci_numa_affinity_policy': 'required',
            'accelerator:numa_affinity_policy': 'preferred'}))

        self.assertEqual(1, self.guest_node(server))
        self.assertEqual([ON_0], self.guest_hostdevs(server))
        self.assertEqual([(ON_0, 0, 0)], self.bound(server))

    def test_the_image_property_sets_the_policy(self):
        # Only node 0 has a unit; the guest goes to node 1, where Nova's
        # default (legacy) would refuse it and the image's preferred does not.
        host = self.numa_compute({ON_0: 0})
        self.fill_node_0(host)
        image = self._create_image({'hw_pci_numa_affinity_policy':
                                    'preferred'})
        server = self._create_server(
            image_uuid=image['id'], flavor_id=self.pinned_flavor(),
            networks='none')

        self.assertEqual(1, self.guest_node(server))
        self.assertEqual([(ON_0, 0, 0)], self.bound(server))

    def test_socket_takes_the_other_node_of_the_guests_socket(self):
        # One socket, two nodes; the only unit is on node 1, the first
        # guest goes to node 0.
        host = self.numa_compute({ON_1: 1}, one_socket_two_nodes_host())
        refused = self.boot(self.pinned_flavor(**{
            'hw:pci_numa_affinity_policy': 'required'}),
            expected_state='ERROR')
        self.assertEqual([], self.bound(refused))
        self._delete_server(refused)

        server = self.boot(self.pinned_flavor(**{
            'hw:pci_numa_affinity_policy': 'socket'}))

        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(0, self.guest_node(server))
        self.assertEqual([(ON_1, 1, 0)], self.bound(server))

    def test_required_on_the_only_host_ends_in_no_valid_host(self):
        host = self.numa_compute({ON_0: 0})
        self.fill_node_0(host)

        server = self.boot(self.pinned_flavor(**{
            'hw:pci_numa_affinity_policy': 'required'}),
            expected_state='ERROR')

        self.assertIn('Exceeded maximum number of retries',
                      server['fault']['message'])
        self.assertEqual([], self.bound(server))
        self.assertEqual({}, self.pgpu_allocations(server['id']))
        # The unit is still free: a guest that may take it does.
        fallback = self.boot(self.pinned_flavor(**{
            'hw:pci_numa_affinity_policy': 'preferred'}))
        self.assertEqual([ON_0], self.guest_hostdevs(fallback))

    def test_a_hard_reboot_keeps_the_units(self):
        host = self.numa_compute(BOTH_NODES)
        self.fill_node_0(host)
        server = self.boot(self.pinned_flavor(**{
            'hw:pci_numa_affinity_policy': 'required'}))
        self.assertEqual([(ON_1, 1, 1)], self.bound(server))

        self._reboot_server(server, hard=True)

        self.assertEqual(1, self.guest_node(server))
        self.assertEqual([ON_1], self.guest_hostdevs(server))
        self.assertEqual([(ON_1, 1, 1)], self.bound(server))


class NumaAffinityRescheduleTest(NumaAffinityTestBase):
    """Two hosts: the scheduler's first choice cannot keep the affinity."""

    def test_required_reschedules_to_a_host_that_fits(self):
        # The first host has a unit on node 0 only; its guest of node 0
        # uses little memory, so the scheduler (which spreads by free RAM)
        # prefers it to the second host, whose units are on both nodes.
        first = self.numa_compute({ON_0: 0})
        second = self.numa_compute(BOTH_NODES)
        self.fill_node_0(first, memory_mb=512)
        self.fill_node_0(second, memory_mb=4096)

        server = self.boot(self.pinned_flavor(**{
            'hw:pci_numa_affinity_policy': 'required'}))

        self.assertEqual(second, server['OS-EXT-SRV-ATTR:host'])
        action = self.api.get_instance_actions(server['id'])[0]
        events = self.api.get_instance_action_details(
            server['id'], action['request_id'])['events']
        self.assertEqual(sorted([first, second]), sorted(
            event['host'] for event in events
            if event['event'] == 'compute__do_build_and_run_instance'))
        self.assertEqual(1, self.guest_node(server))
        self.assertEqual([ON_1], self.guest_hostdevs(server))
        self.assertEqual([(ON_1, 1, 1)], self.bound(server))
        self.assertEqual([], [u for u in self.host_units(first)
                              if (u['attachment'] or {}).get(
                                  'holds_accelerator')])

    def test_a_resize_rebinds_by_the_new_flavors_policy(self):
        source = self.numa_compute(BOTH_NODES)
        server = self.boot(self.pinned_flavor(**{
            'hw:pci_numa_affinity_policy': 'required'}), host=source)
        self.assertEqual([(ON_0, 0, 0)], self.bound(server))
        # The destination's only unit is on node 0, its node 0 is taken:
        # the resized guest goes to node 1, where only the new flavor's
        # policy (preferred; required would refuse) lets it have the unit.
        dest = self.numa_compute({ON_0: 0})
        self.fill_node_0(dest)

        server = self._resize_server(server, self.pinned_flavor(
            memory_mb=1024, **{'hw:pci_numa_affinity_policy': 'preferred'}))

        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(1, self.guest_node(server, dest))
        self.assertEqual([ON_0], self.guest_hostdevs(server, dest))
        self.flags(host=source)
        server = self._confirm_resize(server)
        self.assertEqual([(ON_0, 0, 0)], self.bound(server))
        self.assertEqual({f'{dest}_GPU_10DE_2330': 1},
                         self.pgpu_allocations(server['id']))
