"""The plain-libvirt layer the reconciler uses, against real libvirt and QEMU.

The embedded QEMU driver has no IOMMU to offer: a shut-off guest's definition
accepts a PCI hostdev, a running guest refuses it live. Those two facts are
the success and the failure paths a compute host without the device shows.
"""
import uuid
import xml.etree.ElementTree as ET

import libvirt
import pytest

from nova_ext import accelerator
from nova_ext import libvirt_hostdev

PF = '0000:6b:00.0'
VF = '0000:6b:01.0'


def persistent_hostdevs(domain) -> list[str]:
    return sorted(str(a) for a in libvirt_hostdev.hostdev_addresses(
        domain, persistent=True))


def test_attach_then_detach_on_a_shut_off_guest(libvirt_embed):
    guest = libvirt_embed.define_guest()
    instance_uuid = guest.UUIDString()

    assert libvirt_hostdev.attach(libvirt_embed.conn, instance_uuid,
                                  {'pci_address': VF, 'physfn': PF})

    xml = guest.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "managed='yes'" in xml
    assert ("<address domain='0x0000' bus='0x6b' slot='0x01' "
            "function='0x0'/>") in xml
    assert persistent_hostdevs(guest) == [VF]

    assert libvirt_hostdev.detach(libvirt_embed.conn, instance_uuid,
                                  {'pci_address': VF})
    assert persistent_hostdevs(guest) == []


def test_attach_and_detach_are_idempotent(libvirt_embed):
    guest = libvirt_embed.define_guest()
    instance_uuid = guest.UUIDString()
    conn = libvirt_embed.conn

    assert libvirt_hostdev.attach(conn, instance_uuid, {'pci_address': VF})
    assert not libvirt_hostdev.attach(conn, instance_uuid,
                                      {'pci_address': VF})
    assert persistent_hostdevs(guest) == [VF]

    assert libvirt_hostdev.detach(conn, instance_uuid, {'pci_address': VF})
    assert not libvirt_hostdev.detach(conn, instance_uuid,
                                      {'pci_address': VF})
    assert persistent_hostdevs(guest) == []


def test_find_hostdev_gives_the_element_the_domain_holds(libvirt_embed):
    guest = libvirt_embed.define_guest()
    libvirt_hostdev.attach(libvirt_embed.conn, guest.UUIDString(),
                           {'pci_address': VF})

    found = libvirt_hostdev.find_hostdev(
        guest, accelerator.PciAddress.parse(VF), persistent=True)

    hostdev = ET.fromstring(found)
    assert (hostdev.tag, hostdev.get('type'), hostdev.get('managed')) == (
        'hostdev', 'pci', 'yes')
    assert hostdev.find('source/address').attrib == {
        'domain': '0x0000', 'bus': '0x6b', 'slot': '0x01', 'function': '0x0'}
    assert libvirt_hostdev.find_hostdev(
        guest, accelerator.PciAddress.parse(PF), persistent=True) is None


def test_live_attach_is_refused_with_libvirts_reason(libvirt_embed):
    guest = libvirt_embed.define_guest(running=True)

    with pytest.raises(accelerator.HostdevError) as caught:
        libvirt_hostdev.attach(libvirt_embed.conn, guest.UUIDString(),
                               {'pci_address': VF})

    assert caught.value.kind == accelerator.LIBVIRT_REFUSED
    assert caught.value.libvirt_code == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    assert 'passthrough' in caught.value.reason
    # Refused live means refused: the definition did not take it either.
    assert persistent_hostdevs(guest) == []
    assert guest.isActive()


def test_unknown_instance_uuid_is_domain_not_found(libvirt_embed):
    missing = str(uuid.uuid4())
    for operation in (libvirt_hostdev.attach, libvirt_hostdev.detach):
        with pytest.raises(accelerator.HostdevError) as caught:
            operation(libvirt_embed.conn, missing, {'pci_address': VF})
        assert caught.value.kind == accelerator.DOMAIN_NOT_FOUND
        assert caught.value.libvirt_code == libvirt.VIR_ERR_NO_DOMAIN
        assert missing in caught.value.reason


def test_a_unit_held_by_another_guest_is_refused(libvirt_embed):
    holder = libvirt_embed.define_guest()
    other = libvirt_embed.define_guest()
    conn = libvirt_embed.conn
    libvirt_hostdev.attach(conn, holder.UUIDString(), {'pci_address': VF})

    with pytest.raises(accelerator.HostdevError) as caught:
        libvirt_hostdev.attach(conn, other.UUIDString(), {'pci_address': VF})

    assert caught.value.kind == accelerator.DEVICE_IN_USE
    assert holder.UUIDString() in caught.value.reason
    assert persistent_hostdevs(other) == []


def test_a_vf_whose_pf_another_guest_holds_is_refused(libvirt_embed):
    holder = libvirt_embed.define_guest()
    other = libvirt_embed.define_guest()
    conn = libvirt_embed.conn
    libvirt_hostdev.attach(conn, holder.UUIDString(), {'pci_address': PF})

    with pytest.raises(accelerator.HostdevError) as caught:
        libvirt_hostdev.attach(conn, other.UUIDString(),
                               accelerator.Accelerator.coerce(
                                   {'pci_address': VF, 'physfn': PF}))
    assert caught.value.kind == accelerator.DEVICE_IN_USE


def test_malformed_address_is_refused_before_libvirt(libvirt_embed):
    guest = libvirt_embed.define_guest()
    with pytest.raises(accelerator.HostdevError) as caught:
        libvirt_hostdev.attach(libvirt_embed.conn, guest.UUIDString(),
                               {'pci_address': '6b:01.0'})
    assert caught.value.kind == accelerator.BAD_ADDRESS
    assert persistent_hostdevs(guest) == []
