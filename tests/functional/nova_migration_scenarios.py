"""Servers holding accelerators resized and cold-migrated through Nova.

Run by tests/functional/test_nova_boot.py in a process of its own (see
tests/nova_services.py); each case asserts on the guest's libvirt XML in
Nova's fake libvirt, on the API's bindings and on Placement.

Nova's fake libvirt has no instance storage: as Nova's own functional tests
of resize and migration do (nova/tests/functional/libvirt/test_numa_servers,
test_pci_sriov_servers), the source's ``migrate_disk_and_power_off`` is
stubbed to answer no disks, after powering the guest off as the real one
does. Everything else, our driver and the API included, runs for real.
"""
import fixtures
from nova.tests.fixtures import libvirt

from tests import nova_services
from tests.nova_services import GPUS

#: The destination's pool: other PCI addresses than the source's, so a
#: binding or a hostdev says which host's unit it is.
DEST_GPUS = ('0000:19:00.0', '0000:29:00.0', '0000:39:00.0', '0000:49:00.0')


def pool(host: str) -> str:
    """The agent's name for the host's pool of H100s (PGPU)."""
    return f'{host}_GPU_10DE_2330'


def _power_off_without_disks(driver, context, instance, *args, **kwargs):
    """The source's half of a resize or migration, without the disk copy
    Nova's fake libvirt cannot do: the guest is shut off, and the answer is
    an empty list of disks."""
    driver.power_off(instance)
    return '[]'


class AcceleratorColdMoveTest(nova_services.AcceleratorServicesTestBase):
    """Two compute hosts, each with its own pool of 4 H100s; a server with
    2 of the source's units."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.migrate_disk_and_power_off',
            _power_off_without_disks))
        self.source = self.start_accelerator_compute(GPUS)
        self.server = self.boot(self.accelerator_flavor(2), host=self.source)
        self.dest = self.start_accelerator_compute(DEST_GPUS)
        self.units = self.guest_hostdevs(self.server, self.source)
        self.assertEqual(2, len(self.units))
        self.assertLessEqual(set(self.units), set(GPUS))
        self.assertEqual(self.units, self.bound_units(self.server))
        self.assertEqual({pool(self.source): 2},
                         self.pgpu_allocations(self.server['id']))

    def migration_uuid(self) -> str:
        """The consumer holding the source's resources during the move."""
        return self.api.get_migrations()[0]['uuid']

    def domains(self, hostname: str) -> list[str]:
        """UUIDs of the host's libvirt domains, running or not."""
        conn = self.computes[hostname].driver._host.get_connection()
        return [domain.UUIDString() for domain in conn.listAllDomains(
            libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE
            | libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)]

    def assert_moved(self, server: dict, dest_units: int) -> list[str]:
        """On the destination with ``dest_units`` of its pool in the guest
        and bound; the source keeps its units for a revert, held by the
        migration."""
        self.assertEqual(self.dest, server['OS-EXT-SRV-ATTR:host'])
        hostdevs = self.guest_hostdevs(server, self.dest)
        self.assertEqual(dest_units, len(hostdevs), hostdevs)
        self.assertLessEqual(set(hostdevs), set(DEST_GPUS))
        self.assertEqual(sorted(self.units + hostdevs),
                         self.bound_units(server))
        self.assertEqual({pool(self.dest): dest_units} if dest_units else {},
                         self.pgpu_allocations(server['id']))
        self.assertEqual({pool(self.source): 2},
                         self.pgpu_allocations(self.migration_uuid()))
        return hostdevs

    def assert_confirmed(self, server: dict, hostdevs: list[str]) -> None:
        """Only the destination's units are bound; the source's are back
        in its pool, in Placement too, and its guest is gone."""
        migration = self.migration_uuid()
        # The computes share one process, hence one CONF.host: the last
        # started one's. Nova's driver reads it as its own host name when it
        # decides that the source's guest is to be undefined.
        self.flags(host=self.source)
        server = self._confirm_resize(server)
        self.assertEqual(hostdevs, self.guest_hostdevs(server, self.dest))
        self.assertEqual(hostdevs, self.bound_units(server))
        self.assertEqual({pool(self.dest): len(hostdevs)} if hostdevs else {},
                         self.pgpu_allocations(server['id']))
        self.assertEqual({}, self.pgpu_allocations(migration))
        self.assertNotIn(server['id'], self.domains(self.source))

    def test_cold_migration_confirmed_releases_the_source_units(self):
        server = self._migrate_server(self.server, host=self.dest)
        hostdevs = self.assert_moved(server, 2)

        self.assert_confirmed(server, hostdevs)

    def test_cold_migration_reverted_keeps_the_source_units(self):
        server = self._migrate_server(self.server, host=self.dest)
        self.assert_moved(server, 2)
        migration = self.migration_uuid()

        server = self._revert_resize(server)
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(self.units, self.guest_hostdevs(server, self.source))
        self.assertEqual(self.units, self.bound_units(server))
        self.assertEqual({pool(self.source): 2},
                         self.pgpu_allocations(server['id']))
        self.assertEqual({}, self.pgpu_allocations(migration))
        self.assertNotIn(server['id'], self.domains(self.dest))

    def test_resize_to_a_flavor_without_accelerators_releases_them(self):
        plain = self._create_flavor(name='plain', vcpu=1, memory_mb=512,
                                    disk=1, ephemeral=0)
        server = self._resize_server(self.server, plain)
        self.assert_moved(server, 0)

        self.assert_confirmed(server, [])

    def test_resize_to_a_bigger_flavor_binds_more(self):
        # 2 more units of the source's pool of 4 would be 5 with the 2 the
        # migration holds there: the resize goes to the other host.
        server = self._resize_server(self.server, self.accelerator_flavor(3))
        hostdevs = self.assert_moved(server, 3)

        self.assert_confirmed(server, hostdevs)
