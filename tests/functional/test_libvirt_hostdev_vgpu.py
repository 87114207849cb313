"""vGPUs through the plain-libvirt layer (the REST acc-attach path), on real
libvirt (qemu:///embed): a vendor-VFIO vGPU's VF goes into a shut-off
guest's definition as a PCI hostdev libvirt leaves on its driver
(managed='no'), an mdev as an mdev hostdev by its UUID; read back from the
XML libvirt keeps, and taken out again."""
import xml.etree.ElementTree as ET

import libvirt
import pytest

from nova_ext import accelerator
from nova_ext import libvirt_hostdev

H200_VF = '0000:41:00.4'
A100_VF = '0000:81:00.4'
MDEV_UUID = 'c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e80'
VFIO = {'pci_address': H200_VF, 'vgpu_interface': 'vfio',
        'vgpu_type': '1414'}
MDEV = {'pci_address': A100_VF, 'vgpu_interface': 'mdev',
        'vgpu_type': 'nvidia-692', 'mdev_uuid': MDEV_UUID}


def _hostdevs(domain) -> list[ET.Element]:
    root = ET.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    return root.findall('./devices/hostdev')


def test_a_vendor_vfio_vgpu_goes_in_unmanaged(libvirt_embed):
    guest = libvirt_embed.define_guest()

    assert libvirt_hostdev.attach(libvirt_embed.conn, guest.UUIDString(),
                                  VFIO)

    [hostdev] = _hostdevs(guest)
    assert (hostdev.get('type'), hostdev.get('managed')) == ('pci', 'no')
    assert hostdev.find('source/address').attrib == {
        'domain': '0x0000', 'bus': '0x41', 'slot': '0x00', 'function': '0x4'}
    assert not libvirt_hostdev.attach(libvirt_embed.conn, guest.UUIDString(),
                                      VFIO)
    assert libvirt_hostdev.detach(libvirt_embed.conn, guest.UUIDString(),
                                  VFIO)
    assert _hostdevs(guest) == []


def test_an_mdev_goes_in_as_an_mdev_hostdev(libvirt_embed):
    guest = libvirt_embed.define_guest()

    assert libvirt_hostdev.attach(libvirt_embed.conn, guest.UUIDString(),
                                  MDEV)

    [hostdev] = _hostdevs(guest)
    assert (hostdev.get('mode'), hostdev.get('type'),
            hostdev.get('model')) == ('subsystem', 'mdev', 'vfio-pci')
    assert hostdev.find('source/address').get('uuid') == MDEV_UUID
    assert libvirt_hostdev.hostdev_addresses(guest, persistent=True) == {
        MDEV_UUID}
    found = libvirt_hostdev.find_hostdev(guest, MDEV_UUID, persistent=True)
    assert ET.fromstring(found).get('type') == 'mdev'
    assert not libvirt_hostdev.attach(libvirt_embed.conn, guest.UUIDString(),
                                      MDEV)
    assert libvirt_hostdev.detach(libvirt_embed.conn, guest.UUIDString(),
                                  MDEV)
    assert _hostdevs(guest) == []


@pytest.mark.parametrize('held', [MDEV, {'pci_address': A100_VF}],
                         ids=['the-mdev', 'its-vf-whole'])
def test_an_mdev_another_guest_holds_is_refused(libvirt_embed, held):
    holder = libvirt_embed.define_guest()
    other = libvirt_embed.define_guest()
    libvirt_hostdev.attach(libvirt_embed.conn, holder.UUIDString(), held)

    with pytest.raises(accelerator.HostdevError) as caught:
        libvirt_hostdev.attach(libvirt_embed.conn, other.UUIDString(), MDEV)

    assert caught.value.kind == accelerator.DEVICE_IN_USE
    assert f'mdev {MDEV_UUID}' in caught.value.reason
    assert _hostdevs(other) == []
