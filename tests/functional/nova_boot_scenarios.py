"""Servers booted through Nova onto a host whose GPUs our agent publishes.

Run by tests/functional/test_nova_boot.py in a process of its own (see
tests/nova_services.py); each case asserts on the guest's libvirt XML in
Nova's fake libvirt, on the API's bindings and on Placement.
"""
from tests import nova_services
from tests.nova_services import GPUS


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

    def test_hard_reboot_and_stop_start_keep_the_units(self):
        server = self.boot(self.flavor)
        units = self.assert_holds_two_units(server)

        self._reboot_server(server, hard=True)
        self.assertEqual(units, self.assert_holds_two_units(server))

        self._stop_server(server)
        self._start_server(server)
        self.assertEqual(units, self.assert_holds_two_units(server))


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
