"""Stock Nova 34 boots a vGPU of an mdev pool through an ``MDEV`` ARQ.

A host with an A100 in vGPU mode (a sysfs tree of its real ids: SR-IOV VFs
on ``nvidia``, each the parent of one mdev of the types it lists), whose
agent offers the profile "GRID A100-4C" (``[agent] device_rule``
``vgpu_profiles``): one VGPU pool, one unit per VF. A device profile asks
``resources:VGPU=1`` and the profile's trait; the unmodified
``LibvirtDriver`` creates the mdev from the bound ARQ
(``_allocate_cyborg_mdevs``) through libvirt's node-device API and puts it
into the guest. Run by tests/functional/test_nova_stock.py.

Nova's fake libvirt keeps no mdev it is asked to create
(``nodeDeviceCreateXML`` does nothing) and answers a lookup of a missing
one with a KeyError, where libvirt answers ``VIR_ERR_NO_NODE_DEVICE``;
:class:`_LibvirtMdevs` gives it libvirt's behaviour for mdevs, and records
what was created. Nothing of Nova's driver is changed.
"""
import json
import xml.etree.ElementTree as ET

import fixtures
from nova.tests.fixtures import libvirt as fakelibvirt

from tests.functional.nova_stock_scenarios import no_disks
from tools.harness import catalog
from tools.harness import nova_services
from tools.harness.guest_xml import hostdev_sources
from tools.harness.guest_xml import mdev_sources

A100 = '0000:41:00.0'
PROFILE = catalog.A100_4C.pretty_name
TRAIT = 'CUSTOM_VGPU_GRID_A100_4C'


class _NodeDevice(fakelibvirt.NodeDevice):
    """A defined mdev, which (as libvirt's) can be set to autostart."""

    def setAutostart(self, autostart: bool) -> int:
        self.autostart = autostart
        return 0


class _LibvirtMdevs(fixtures.Fixture):
    """libvirt's node-device calls for mdevs on Nova's fake connection:
    a created mdev can be looked up (by libvirt's name for it,
    ``mdev_<uuid>_<parent>``), a missing one is ``VIR_ERR_NO_NODE_DEVICE``,
    and defining one gives the device. ``created`` lists (parent, type,
    uuid) of each creation."""

    def __init__(self) -> None:
        super().__init__()
        self.created: list[tuple[str, str, str]] = []

    def _setUp(self) -> None:
        lookup = fakelibvirt.Connection.nodeDeviceLookupByName
        made = self.created

        def lookup_by_name(conn, name):
            if name.startswith('mdev') and name not in conn.mdev_info.devices:
                raise fakelibvirt.make_libvirtError(
                    fakelibvirt.libvirtError,
                    f'Node device not found: no node device with matching '
                    f'name {name!r}',
                    error_code=fakelibvirt.VIR_ERR_NO_NODE_DEVICE,
                    error_domain=fakelibvirt.VIR_FROM_NODEDEV)
            return lookup(conn, name)

        def create(conn, xml, flags):
            root = ET.fromstring(xml)
            parent = root.findtext('parent')
            mdev_type = root.find('capability/type').get('id')
            uuid = root.findtext('capability/uuid')
            name = f'mdev_{uuid.replace("-", "_")}_{parent[len("pci_"):]}'
            device = fakelibvirt.FakeMdevDevice(name, mdev_type, parent)
            conn.mdev_info.devices[name] = device
            made.append((parent, mdev_type, uuid))
            return _NodeDevice(conn, xml=device.XMLDesc(0))

        def define(conn, xml, flags):
            root = ET.fromstring(xml)
            return _NodeDevice(conn, xml=fakelibvirt.FakeMdevDevice(
                f'mdev_{root.findtext("capability/uuid").replace("-", "_")}',
                root.find('capability/type').get('id'),
                root.findtext('parent')).XMLDesc(0))

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Connection.nodeDeviceLookupByName',
            lookup_by_name))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Connection.nodeDeviceCreateXML',
            create))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Connection.nodeDeviceDefineXML',
            define))


class StockNovaMdevTest(nova_services.StockNovaServicesTestBase):
    """A server of a flavor whose device profile asks one mdev vGPU."""

    CAST_AS_CALL = False

    def setUp(self):
        super().setUp()
        self.mdevs = self.useFixture(_LibvirtMdevs())
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver'
            '._get_instance_disk_info_from_config', no_disks))
        self.host = f'cn-a100-{self.workdir.name[:6]}'
        self.start_compute(self.host)
        self.run_agent(self.host, functions=[
            catalog.nvidia_a100_mdev(A100, vfs=4)], rules=(json.dumps({
                'vendor_id': '10de', 'product_id': '20f1',
                'vgpu_profiles': {PROFILE: None}}),))
        name = f'a100-4c-{self.workdir.name[:6]}'
        self.v2('POST', '/device_profiles', 201, json=[{
            'name': name, 'groups': [{'resources:VGPU': '1',
                                      f'trait:{TRAIT}': 'required'}]}])
        self.flavor = self.profile_flavor(name)

    def test_the_guest_gets_the_mdev_nova_created_from_the_arq(self):
        units = {u['uuid']: u for u in self.host_units(self.host)}
        self.assertEqual({PROFILE}, {u['vgpu_profile']
                                     for u in units.values()})

        server = self.boot(self.flavor)

        [arq] = self.arqs(server)
        unit = units[arq['accelerator_uuid']]
        self.assertEqual(('Bound', 'MDEV', unit['mdev_uuid']),
                         (arq['state'], arq['attach_handle_type'],
                          arq['attach_handle_uuid']))
        vf = unit['pci_address']
        parent = 'pci_' + vf.replace(':', '_').replace('.', '_')
        self.assertEqual([(parent, catalog.A100_4C.name,
                           unit['mdev_uuid'])], self.mdevs.created)
        conn = self.computes[self.host].driver._host.get_connection()
        xml = conn.lookupByUUIDString(server['id']).XMLDesc(0)
        self.assertEqual(([unit['mdev_uuid']], []),
                         (mdev_sources(xml), hostdev_sources(xml)))
        holder = (unit_now := {u['uuid']: u for u in self.host_units(
            self.host)}[unit['uuid']])['attachment']
        self.assertEqual(server['id'], holder['instance_uuid'], unit_now)

        # A hard reboot finds the mdev there and keeps it.
        self._reboot_server(server, hard=True)
        self.assertEqual(1, len(self.mdevs.created))
        xml = conn.lookupByUUIDString(server['id']).XMLDesc(0)
        self.assertEqual([unit['mdev_uuid']], mdev_sources(xml))
        # The host lost its mdevs (a reboot): the next hard reboot makes
        # the same mdev again, on the same VF.
        conn.mdev_info.devices.clear()
        self._reboot_server(server, hard=True)
        self.assertEqual([self.mdevs.created[0]] * 2, self.mdevs.created)
        xml = conn.lookupByUUIDString(server['id']).XMLDesc(0)
        self.assertEqual([unit['mdev_uuid']], mdev_sources(xml))

        self._delete_server(server)
        self.assertEqual([], self.arqs(server))
