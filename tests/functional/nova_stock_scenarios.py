"""Stock Nova on our API's ``/v2``: servers of a flavor with
``accel:device_profile`` get units of the pool Placement allocated.

Nothing of Nova is changed: the unmodified ``LibvirtDriver`` on Nova's fake
libvirt, and Nova's own Cyborg client creating, binding, reading and
deleting accelerator requests (ARQs) on the real ``cyborg-api``
(tools/harness/nova_services.py, :class:`StockNovaServicesTestBase`). Run by
tests/functional/test_nova_stock.py, each case in a process of its own;
each asserts on the guest's libvirt XML, on the ARQs and units the API
shows, and on Placement.
"""
import os
import uuid

import fixtures
from nova.tests.functional.api import client
import requests

from tools.harness import nova_services
from tools.harness.nova_services import GPUS

#: What Nova's compute API answers the operations it refuses for a server
#: whose flavor names a device profile (``ForbiddenWithAccelerators``).
REFUSED = 'Feature not supported with instances that have accelerators.'


def handle_address(arq: dict) -> str:
    """The PCI address of a bound ARQ's attach handle, as DDDD:BB:SS.F."""
    info = arq['attach_handle_info']
    return '{}:{}:{}.{}'.format(info['domain'], info['bus'],
                                info['device'], info['function'])


def no_disks(driver, guest_config, block_device_info) -> list:
    """The instance's disks as the guest's config names them: none, for
    Nova's fake libvirt has no instance storage. A hard reboot with a token
    in the request context (Nova's Cyborg client needs one) re-creates the
    disks' backing files from them; the guest's devices are untouched."""
    return []


class _StockNovaTestBase(nova_services.StockNovaServicesTestBase):
    """A compute host with one pool of 4 H100s, a 2-GPU device profile
    and its flavor; what a server of it holds."""

    #: RPC casts stay casts, as in a deployment: a build the conductor
    #: fails is an ERROR server, not an error of the API request.
    CAST_AS_CALL = False

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver'
            '._get_instance_disk_info_from_config', no_disks))
        self.host = self.start_gpu_compute()
        self.profile = self.device_profile(2)
        self.flavor = self.profile_flavor(self.profile)

    def held_units(self, server: dict, host: str | None = None
                   ) -> list[str]:
        """PCI addresses of the host's units that ``GET /accelerators``
        shows held by the server."""
        return sorted(
            unit['pci_address'] for unit in self.host_units(host or self.host)
            if (unit['attachment'] or {}).get('holds_accelerator')
            and unit['attachment']['instance_uuid'] == server['id'])

    def pool_allocated(self, server: dict, host: str) -> str:
        """The one pool of the host Placement allocated the server's 2 PGPU
        from."""
        pools = {unit['pool_provider_uuid']
                 for unit in self.host_units(host)}
        allocations = self.placement.get(
            f'/allocations/{server["id"]}').body['allocations']
        held = {rp: allocation['resources']
                for rp, allocation in allocations.items() if rp in pools}
        self.assertEqual(1, len(held), allocations)
        (pool, resources), = held.items()
        self.assertEqual({'PGPU': 2}, resources)
        return pool

    def assert_whole(self, server: dict, host: str | None = None
                     ) -> list[str]:
        """Two ARQs ``Bound`` to the server on the host, each naming the
        pool Placement allocated and a unit of it; the guest's hostdevs are
        those units, and ``GET /accelerators`` shows them held by it."""
        host = host or self.host
        pool = self.pool_allocated(server, host)
        arqs = self.arqs(server)
        self.assertEqual(2, len(arqs), arqs)
        for arq in arqs:
            self.assertEqual(
                ('Bound', host, pool, server['id'], 'PCI',
                 self.profile, 0),
                (arq['state'], arq['hostname'], arq['device_rp_uuid'],
                 arq['instance_uuid'], arq['attach_handle_type'],
                 arq['device_profile_name'], arq['device_profile_group_id']))
        # They are the project's of the user whose token Nova passed on.
        self.assertEqual(arqs, self.arqs(server, as_user=True))
        units = sorted(handle_address(arq) for arq in arqs)
        self.assertEqual(2, len(set(units)), units)
        self.assertLessEqual(set(units), set(GPUS))
        self.assertEqual(units, self.guest_hostdevs(server, host))
        self.assertEqual(units, self.held_units(server, host))
        self.assertEqual({pool}, {unit['pool_provider_uuid']
                                  for unit in self.host_units(host)
                                  if unit['pci_address'] in units})
        return units

    def assert_released(self, server: dict) -> None:
        """No ARQ, no unit held, no allocation left for the server."""
        self.assertEqual([], self.arqs(server))
        self.assertEqual([], self.held_units(server))
        self.assertEqual({}, self.placement.get(
            f'/allocations/{server["id"]}').body['allocations'])


class StockNovaBootTest(_StockNovaTestBase):
    """Servers of the device profile's flavor on the one host."""

    def test_a_profile_flavor_boots_with_units_of_the_allocated_pool(self):
        server = self.boot(self.flavor)

        self.assert_whole(server)
        # A unit an ARQ holds is nobody else's to attach.
        for arq in self.arqs(server):
            answer = requests.put(
                f'{os.environ[nova_services.API_URL]}/accelerators/'
                f'{arq["accelerator_uuid"]}',
                json={'instance_uuid': str(uuid.uuid4())},
                headers=nova_services.admin_headers(), timeout=30)
            self.assertEqual(409, answer.status_code, answer.text)
            self.assertIn('accelerator.attach.conflict', answer.text)
        self.assert_whole(server)

    def test_the_pool_is_shared_out_and_delete_gives_units_back(self):
        first_server = self.boot(self.flavor)
        first = self.assert_whole(first_server)
        second_server = self.boot(self.flavor)
        second = self.assert_whole(second_server)
        self.assertEqual(set(GPUS), set(first) | set(second))

        self._delete_server(first_server)
        self.assert_released(first_server)
        self.assertEqual(second, self.held_units(second_server))
        third = self.assert_whole(self.boot(self.flavor))
        self.assertEqual(first, third)

    def test_reboot_stop_start_and_rebuild_keep_the_units(self):
        server = self.boot(self.flavor)
        units = self.assert_whole(server)

        self._reboot_server(server, hard=True)
        self.assertEqual(units, self.assert_whole(server))

        self._stop_server(server)
        self._start_server(server)
        self.assertEqual(units, self.assert_whole(server))

        # Another image of Nova's fake glance: the guest is built anew.
        self._rebuild_server(server, 'a2459075-d96c-40d5-893e-577ff92e721c')
        self.assertEqual(units, self.assert_whole(server))

    def test_shelve_offload_releases_and_unshelve_binds_again(self):
        server = self.boot(self.flavor)
        self.assert_whole(server)

        # [DEFAULT] shelved_offload_time = 0: offloaded at once.
        self._shelve_server(server)
        self.assert_released(server)

        self._unshelve_server(server)
        self.assert_whole(server)

    def test_a_delete_while_the_compute_is_down_frees_the_units(self):
        server = self.boot(self.flavor)
        self.assert_whole(server)
        service = self.computes[self.host].service_ref.uuid
        self.api.put_service(service, {'forced_down': True})
        self.computes[self.host].stop()

        # Nova deletes it in the API alone ("local delete"), which deletes
        # the ARQs too: nothing waits for the host.
        self._delete_server(server)
        self.assert_released(server)

    def test_nova_refuses_moves_and_suspend_of_a_server_with_units(self):
        server = self.boot(self.flavor)
        units = self.assert_whole(server)
        plain = self._create_flavor(name='plain', vcpu=1, memory_mb=512,
                                    disk=1, ephemeral=0)

        for action in ({'resize': {'flavorRef': plain}},
                       {'migrate': None},
                       {'os-migrateLive': {'host': None,
                                           'block_migration': 'auto'}},
                       {'suspend': None}):
            with self.subTest(action=next(iter(action))):
                refused = self.assertRaises(
                    client.OpenStackApiException,
                    self.api.post_server_action, server['id'], action)
                self.assertEqual(400, refused.response.status_code)
                self.assertIn(REFUSED, refused.response.text)
        self.assertEqual('ACTIVE', self._show_server(server)['status'])
        self.assertEqual(units, self.assert_whole(server))

    def test_a_bind_the_api_cannot_do_fails_the_build_binding_nothing(self):
        # The API's view of the host keeps 1 of its 4 units; Placement
        # still offers 4, so the scheduler picks the pool for 2.
        self.report_only(self.host, [GPUS[0]])

        server = self.boot(self.flavor, expected_state='ERROR')

        self.assertIn('Failed to bind accelerator requests',
                      server['fault']['message'])
        self.assertEqual([], self.arqs(server))
        self.assertEqual([], [unit['pci_address']
                              for unit in self.host_units(self.host)
                              if (unit['attachment'] or {})
                              .get('holds_accelerator')])
        self.assertFalse(self.computes[self.host].driver._host
                         .get_connection().listAllDomains())
        self._delete_server(server)
        self.assert_released(server)


class StockNovaEvacuateTest(_StockNovaTestBase):
    """A second host of 4 H100s to evacuate to."""

    def test_evacuate_binds_anew_on_the_destination(self):
        server = self.boot(self.flavor, host=self.host)
        self.assert_whole(server)
        dest = self.start_gpu_compute()
        source_service = self.computes[self.host].service_ref.uuid
        self.api.put_service(source_service, {'forced_down': True})
        self.computes[self.host].stop()

        # Nova's conductor deletes the ARQs and makes and binds new ones on
        # the destination: the source's units are free at once, though
        # Placement keeps its allocation there until the source is back.
        # Since microversion 2.95 the evacuated guest is left stopped.
        server = self._evacuate_server(server, expected_host=dest)
        self.assert_whole(server, dest)
        self.assertEqual([], self.held_units(server, self.host))

        # Back up, the source destroys the evacuated guest and drops its
        # allocation there (init_host); the server is whole on dest.
        self.restart_compute_service(self.host)
        self.api.put_service(source_service, {'forced_down': False})
        self.assertFalse(
            self.computes[self.host].driver._host.get_connection()
            .listAllDomains())
        self.assertEqual({dest: 2}, {
            name.split('_GPU_')[0]: count for name, count in
            self.pgpu_allocations(server['id']).items()})
        self.assert_whole(server, dest)
