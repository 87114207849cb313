"""Servers booted through Nova onto a host whose GPUs our agent publishes.

Run by tests/functional/test_nova_boot.py in a process of its own (see
tools/harness/nova_services.py); each case asserts on the guest's libvirt XML in
Nova's fake libvirt, on the API's bindings and on Placement.
"""
import os

import requests

from tools.harness import nova_services
from tools.harness.nova_services import GPUS


def _api(method: str, path: str, **kwargs) -> requests.Response:
    """The accelerator API as the service (noauth admin token)."""
    return requests.request(
        method, os.environ[nova_services.API_URL] + path,
        headers={'X-Auth-Token': 'admin'}, timeout=30, **kwargs)


def bound_by_host(server: dict) -> dict[str, list[str]]:
    """PCI addresses the API has bound to the server, by host: both hosts
    of the two-host cases have the same addresses."""
    answer = _api('GET', f'/instances/{server["id"]}/bindings')
    answer.raise_for_status()
    found: dict[str, list[str]] = {}
    for unit in answer.json()['bindings']:
        found.setdefault(unit['host'], []).append(unit['pci_address'])
    return {host: sorted(units) for host, units in found.items()}


class AcceleratorBootTest(nova_services.AcceleratorServicesTestBase):
    """One compute host, one pool of 4 H100s."""

    def setUp(self):
        super().setUp()
        self.host = self.start_accelerator_compute()
        self.flavor = self.accelerator_flavor(2)

    def assert_holds_two_units(self, server: dict) -> list[str]:
        """The guest has 2 hostdevs, the ones bound, from the pool, and
        Placement holds 2 PGPU of the pool for it."""
        hostdevs = self.guest_hostdevs(server)
        self.assertEqual(2, len(hostdevs), hostdevs)
        self.assertLessEqual(set(hostdevs), set(GPUS))
        self.assertEqual(hostdevs, self.bound_units(server))
        self.assertEqual(2, sum(self.pgpu_allocations(server['id']).values()))
        return hostdevs

    def test_two_gpu_flavor_gets_two_units_of_the_pool(self):
        server = self.boot(self.flavor)

        self.assert_holds_two_units(server)

    def test_the_pool_is_shared_out_and_taken_back(self):
        first = self.assert_holds_two_units(self.boot(self.flavor))
        second_server = self.boot(self.flavor)
        second = self.assert_holds_two_units(second_server)
        self.assertEqual(set(GPUS), set(first) | set(second))

        third = self.boot(self.flavor, expected_state='ERROR')
        self.assertIn('No valid host', third['fault']['message'])
        self.assertEqual({}, self.pgpu_allocations(third['id']))
        self.assertEqual([], self.bound_units(third))

        self._delete_server(second_server)
        self.assertEqual({}, self.pgpu_allocations(second_server['id']))
        self.assertEqual([], self.bound_units(second_server))
        fourth = self.assert_holds_two_units(self.boot(self.flavor))
        self.assertEqual(second, fourth)

    def test_hard_reboot_stop_start_and_rebuild_keep_the_units(self):
        server = self.boot(self.flavor)
        units = self.assert_holds_two_units(server)

        self._reboot_server(server, hard=True)
        self.assertEqual(units, self.assert_holds_two_units(server))

        self._stop_server(server)
        self._start_server(server)
        self.assertEqual(units, self.assert_holds_two_units(server))

        # Another image of Nova's fake glance: the guest is built anew.
        self._rebuild_server(server, 'a2459075-d96c-40d5-893e-577ff92e721c')
        self.assertEqual(units, self.assert_holds_two_units(server))

    def test_shelve_offload_releases_and_unshelve_binds_again(self):
        server = self.boot(self.flavor)
        self.assert_holds_two_units(server)

        # [DEFAULT] shelved_offload_time = 0: offloaded at once.
        self._shelve_server(server)
        self.assertEqual([], self.bound_units(server))
        self.assertEqual({}, self.placement.get(
            f'/allocations/{server["id"]}').body['allocations'])

        self._unshelve_server(server)
        self.assert_holds_two_units(server)

    def test_delete_while_the_compute_is_down_is_released_by_the_agent(self):
        server = self.boot(self.flavor)
        units = self.assert_holds_two_units(server)
        service = self.computes[self.host].service_ref.uuid
        self.api.put_service(service, {'forced_down': True})
        self.computes[self.host].stop()

        # Nova deletes it in the API alone ("local delete"), allocations
        # included; the host never hears of it, so the binding stays...
        self._delete_server(server)
        self.assertEqual({}, self.placement.get(
            f'/allocations/{server["id"]}').body['allocations'])
        self.assertEqual(units, self.bound_units(server))
        # ...until the agent's next reconcile pass reads the host's feed.
        self.run_agent(self.host)
        self.assertEqual([], self.bound_units(server))

        # The units are bindable again: two servers take the whole pool.
        self.restart_compute_service(self.host)
        self.api.put_service(service, {'forced_down': False})
        first = self.assert_holds_two_units(self.boot(self.flavor))
        second = self.assert_holds_two_units(self.boot(self.flavor))
        self.assertEqual(set(GPUS), set(first) | set(second))


class AcceleratorMoveTest(nova_services.AcceleratorServicesTestBase):
    """Two compute hosts, each with its own pool of 4 H100s."""

    #: RPC casts stay casts, as in a deployment: the API accepts the live
    #: migration and the conductor's pre-checks fail it afterwards.
    CAST_AS_CALL = False

    def setUp(self):
        super().setUp()
        self.source = self.start_accelerator_compute()
        self.server = self.boot(self.accelerator_flavor(2), host=self.source)
        self.dest = self.start_accelerator_compute()
        self.units = self.guest_hostdevs(self.server, self.source)
        self.assertEqual(2, len(self.units))
        self.allocations = self.pgpu_allocations(self.server['id'])

    def test_live_migration_is_refused_naming_the_accelerators(self):
        self._live_migrate(self.server, migration_expected_state='error',
                           server_expected_state='ACTIVE', host=self.dest)

        action = next(
            action for action in self.api.get_instance_actions(
                self.server['id'])
            if action['action'] == 'live-migration')
        events = self.api.get_instance_action_details(
            self.server['id'], action['request_id'])['events']
        # The source compute's pre-check event says why (its 'details').
        text = ' '.join(str(event.get('details')) for event in events)
        self.assertIn('cannot be live migrated', text)
        for address in self.units:
            self.assertIn(address, text)
        # Nothing moved: same host, same units, same allocation.
        self.assertEqual(self.units,
                         self.guest_hostdevs(self.server, self.source))
        self.assertEqual(self.units, self.bound_units(self.server))
        self.assertEqual(self.allocations,
                         self.pgpu_allocations(self.server['id']))
        self.assertFalse(
            self.computes[self.dest].driver._host.get_connection()
            .listAllDomains())

    def test_evacuate_binds_on_the_destination_and_the_source_releases(self):
        source_service = self.computes[self.source].service_ref.uuid
        self.api.put_service(source_service, {'forced_down': True})
        self.computes[self.source].stop()

        # Since microversion 2.95 the evacuated guest is left stopped.
        server = self._evacuate_server(self.server, expected_host=self.dest)
        units = self.guest_hostdevs(server, self.dest)
        self.assertEqual(2, len(units))
        self.assertLessEqual(set(units), set(GPUS))
        # The source is down: its bindings and allocation wait for it.
        self.assertEqual({self.source: self.units, self.dest: units},
                         bound_by_host(server))
        held = self.pgpu_allocations(server['id'])
        self.assertEqual(2, len(held))

        # Back up, the source destroys the evacuated guest (init_host).
        self.restart_compute_service(self.source)
        self.api.put_service(source_service, {'forced_down': False})
        self.assertFalse(
            self.computes[self.source].driver._host.get_connection()
            .listAllDomains())
        self.assertEqual({self.dest: units}, bound_by_host(server))
        self.assertEqual(
            {name: 2 for name in set(held) - set(self.allocations)},
            self.pgpu_allocations(server['id']))
        self.assertEqual(units, self.guest_hostdevs(server, self.dest))

    def test_a_unit_gone_after_scheduling_reschedules_to_the_other_host(self):
        # The destination's API view loses 3 of its 4 units (its device
        # report without them: missing); Placement still offers 4 there.
        self.report_only(self.dest, [GPUS[0]])

        # The destination, emptier, is the scheduler's first choice; its
        # pool cannot bind 2 units, so the build goes to the source.
        server = self.boot(self.accelerator_flavor(2))
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        action = self.api.get_instance_actions(server['id'])[0]
        events = self.api.get_instance_action_details(
            server['id'], action['request_id'])['events']
        # A rescheduled build ends its event on the first host as well.
        self.assertEqual(sorted([self.dest, self.source]), sorted(
            event['host'] for event in events
            if event['event'] == 'compute__do_build_and_run_instance'))

        units = self.guest_hostdevs(server, self.source)
        self.assertEqual(2, len(units))
        self.assertFalse(set(units) & set(self.units))
        self.assertEqual({self.source: units}, bound_by_host(server))
        self.assertEqual(self.allocations,
                         self.pgpu_allocations(server['id']))
        self.assertFalse(
            self.computes[self.dest].driver._host.get_connection()
            .listAllDomains())
