"""Servers holding accelerators resized and cold-migrated through Nova.

Run by tests/functional/test_nova_boot.py in a process of its own (see
tools/harness/nova_services.py); each case asserts on the guest's libvirt XML in
Nova's fake libvirt, on the API's bindings and on Placement.

Nova's fake libvirt has no instance storage: as Nova's own functional tests
of resize and migration do (nova/tests/functional/libvirt/test_numa_servers,
test_pci_sriov_servers), the source's ``migrate_disk_and_power_off`` is
stubbed to answer no disks, after powering the guest off as the real one
does. Everything else, our driver and the API included, runs for real.
"""
import fixtures
from nova.tests.fixtures import libvirt

from tools.harness import nova_services
from tools.harness.nova_services import GPUS

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


class _MoveTestBase(nova_services.AcceleratorServicesTestBase):
    """Moves without disks, and what a move leaves on a host."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.migrate_disk_and_power_off',
            _power_off_without_disks))

    def migration_uuid(self) -> str:
        """The consumer holding the source's resources during the latest
        move."""
        return max(self.api.get_migrations(),
                   key=lambda migration: migration['id'])['uuid']

    def domains(self, hostname: str) -> list[str]:
        """UUIDs of the host's libvirt domains, running or not."""
        conn = self.computes[hostname].driver._host.get_connection()
        return [domain.UUIDString() for domain in conn.listAllDomains(
            libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE
            | libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)]

    def plain_flavor(self) -> str:
        """A flavor without accelerators."""
        return self._create_flavor(name='plain', vcpu=1, memory_mb=512,
                                   disk=1, ephemeral=0)


class AcceleratorColdMoveTest(_MoveTestBase):
    """Two compute hosts, each with its own pool of 4 H100s; a server with
    2 of the source's units."""

    def setUp(self):
        super().setUp()
        self.source = self.start_accelerator_compute(GPUS)
        self.server = self.boot(self.accelerator_flavor(2), host=self.source)
        self.dest = self.start_accelerator_compute(DEST_GPUS)
        self.units = self.guest_hostdevs(self.server, self.source)
        self.assertEqual(2, len(self.units))
        self.assertLessEqual(set(self.units), set(GPUS))
        self.assertEqual(self.units, self.bound_units(self.server))
        self.assertEqual({pool(self.source): 2},
                         self.pgpu_allocations(self.server['id']))

    def assert_moved(self, server: dict, dest_units: int) -> list[str]:
        """On the destination with ``dest_units`` of its pool in the guest
        and bound; the source keeps its units for a revert, held by the
        migration, also through its agent's reconcile pass (which releases
        the bindings no consumer holds, docs/api.md)."""
        self.assertEqual(self.dest, server['OS-EXT-SRV-ATTR:host'])
        self.run_agent(self.source, GPUS)
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
        # Another server takes the rest of the source's pool meanwhile: the
        # units the migration holds are not among them.
        other = self.boot(self.accelerator_flavor(2), host=self.source)
        others = self.guest_hostdevs(other, self.source)
        self.assertEqual(sorted(set(GPUS) - set(self.units)), others)
        self.assertEqual(others, self.bound_units(other))

        server = self._revert_resize(server)
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(self.units, self.guest_hostdevs(server, self.source))
        self.assertEqual(self.units, self.bound_units(server))
        self.assertEqual({pool(self.source): 2},
                         self.pgpu_allocations(server['id']))
        self.assertEqual({}, self.pgpu_allocations(migration))
        self.assertNotIn(server['id'], self.domains(self.dest))
        self.assertEqual(others, self.guest_hostdevs(other, self.source))
        self.assertEqual(others, self.bound_units(other))

    def test_resize_to_a_flavor_without_accelerators_releases_them(self):
        server = self._resize_server(self.server, self.plain_flavor())
        self.assert_moved(server, 0)

        self.assert_confirmed(server, [])

    def test_resize_to_a_bigger_flavor_binds_more(self):
        # 2 more units of the source's pool of 4 would be 5 with the 2 the
        # migration holds there: the resize goes to the other host.
        server = self._resize_server(self.server, self.accelerator_flavor(3))
        hostdevs = self.assert_moved(server, 3)

        self.assert_confirmed(server, hostdevs)


class AcceleratorSameHostResizeTest(_MoveTestBase):
    """One compute host, one pool of 4 H100s, resizes allowed onto it."""

    def setUp(self):
        super().setUp()
        self.flags(allow_resize_to_same_host=True)
        self.host = self.start_accelerator_compute(GPUS)
        self.server = self.boot(self.accelerator_flavor(2))

    def assert_holds(self, server: dict, units: int) -> list[str]:
        """``units`` of the pool in the guest, bound and held in Placement
        by the instance."""
        hostdevs = self.guest_hostdevs(server, self.host)
        self.assertEqual(units, len(hostdevs), hostdevs)
        self.assertLessEqual(set(hostdevs), set(GPUS))
        self.assertEqual(hostdevs, self.bound_units(server))
        self.assertEqual({pool(self.host): units} if units else {},
                         self.pgpu_allocations(server['id']))
        return hostdevs

    def test_resize_without_accelerators_reverted_then_confirmed(self):
        self.assert_holds(self.server, 2)
        plain = self.plain_flavor()

        server = self._resize_server(self.server, plain)
        # The new guest has none and the instance holds none: its bindings
        # went when the new guest was built; the migration holds the old
        # flavor's units until the resize is confirmed or reverted.
        self.assertEqual(self.host, server['OS-EXT-SRV-ATTR:host'])
        self.assert_holds(server, 0)
        self.assertEqual({pool(self.host): 2},
                         self.pgpu_allocations(self.migration_uuid()))

        server = self._revert_resize(server)
        self.assert_holds(server, 2)
        self.assertEqual({}, self.pgpu_allocations(self.migration_uuid()))

        server = self._resize_server(server, plain)
        migration = self.migration_uuid()
        server = self._confirm_resize(server)
        self.assert_holds(server, 0)
        self.assertEqual({}, self.pgpu_allocations(migration))
