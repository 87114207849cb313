"""Attach and detach an accelerator to a libvirt guest by instance UUID.

The one implementation of accelerator hostdevs: the agent's reconciler (a
REST attach, on hosts where Nova's code may not be installed) and Nova's
driver (``attach_accelerator`` / ``detach_accelerator``) both call it, so
both write, find and remove the same device. Plain libvirt, no Nova import.
Nova names each libvirt domain after nothing stable, but gives it the
instance's UUID, so the instance UUID is the domain UUID.

An attach goes to the persistent definition (so it survives a stop and a
start) and, while the guest runs, to the live guest too, in one libvirt call
so a refused live change leaves the definition untouched. A detach takes the
device out of the definition, then out of the running guest, waiting for
the guest to let go. Attaching what is there and detaching what is gone do
nothing. Every failure is a :class:`~nova_ext.accelerator.HostdevError`.

A unit is a PCI hostdev (managed: libvirt binds it to vfio-pci), or one of
two kinds of vGPU: a vendor-VFIO vGPU's VF, a PCI hostdev with
``managed='no'`` (it stays on the vendor driver, which holds the vGPU), or
a mediated device, an mdev hostdev by its UUID. Either vGPU must exist on
the host before a guest with it starts; its creation is not this module's.
"""
import time
import typing
import xml.etree.ElementTree as ET

import libvirt

from nova_ext.accelerator import Accelerator
from nova_ext.accelerator import DETACH_FAILED
from nova_ext.accelerator import Device
from nova_ext.accelerator import DEVICE_IN_USE
from nova_ext.accelerator import DOMAIN_NOT_FOUND
from nova_ext.accelerator import HostdevError
from nova_ext.accelerator import LIBVIRT_REFUSED
from nova_ext.accelerator import PciAddress

_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE

#: Takes a hostdev out of a running guest, returning once the guest
#: released it; raises HostdevError (DETACH_FAILED) when it does not.
LiveDetach = typing.Callable[[libvirt.virDomain, Accelerator], None]


def hostdev_xml(accel: Accelerator) -> str:
    """The hostdev element Nova's LibvirtConfigGuestHostdevPCI (or, for an
    mdev, LibvirtConfigGuestHostdevMDEV) writes, so both layers produce and
    recognise the same device."""
    if accel.is_mdev:
        hostdev = ET.Element('hostdev', mode='subsystem', type='mdev',
                             managed='no', model='vfio-pci')
        ET.SubElement(ET.SubElement(hostdev, 'source'), 'address',
                      uuid=accel.device)
        return ET.tostring(hostdev, encoding='unicode')
    address = accel.pci_address
    hostdev = ET.Element('hostdev', mode='subsystem', type='pci',
                         managed='yes' if accel.managed else 'no')
    source = ET.SubElement(hostdev, 'source')
    ET.SubElement(source, 'address', domain=f'0x{address.domain:04x}',
                  bus=f'0x{address.bus:02x}', slot=f'0x{address.slot:02x}',
                  function=f'0x{address.function:x}')
    return ET.tostring(hostdev, encoding='unicode')


def refused(ex: libvirt.libvirtError) -> HostdevError:
    """libvirt's refusal, with its own message and error code."""
    return HostdevError(LIBVIRT_REFUSED, ex.get_error_message(),
                        ex.get_error_code())


def lookup_domain(conn: libvirt.virConnect,
                  instance_uuid: str) -> libvirt.virDomain:
    try:
        return conn.lookupByUUIDString(instance_uuid)
    except libvirt.libvirtError as ex:
        if ex.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise HostdevError(DOMAIN_NOT_FOUND, ex.get_error_message(),
                               ex.get_error_code()) from ex
        raise refused(ex) from ex


def _device_of(hostdev: ET.Element) -> Device | None:
    """A PCI hostdev's source address, an mdev hostdev's UUID."""
    addr = hostdev.find('source/address')
    if addr is None:
        return None
    if hostdev.get('type') == 'pci':
        return PciAddress.from_libvirt(addr.get('domain'), addr.get('bus'),
                                       addr.get('slot'), addr.get('function'))
    if hostdev.get('type') == 'mdev' and addr.get('uuid'):
        return addr.get('uuid').lower()
    return None


def _hostdevs(domain: libvirt.virDomain,
              persistent: bool) -> dict[Device, ET.Element]:
    """PCI and mdev hostdev elements of the persistent definition, or of
    the live guest, by source address or mdev UUID."""
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE if persistent else 0
    root = ET.fromstring(domain.XMLDesc(flags))
    found = {}
    for hostdev in root.iterfind('./devices/hostdev'):
        device = _device_of(hostdev)
        if device is not None:
            found[device] = hostdev
    return found


def hostdev_addresses(domain: libvirt.virDomain,
                      persistent: bool) -> set[Device]:
    """The hostdevs of the persistent definition, or of the live guest: PCI
    addresses, and the UUIDs of mdevs."""
    return set(_hostdevs(domain, persistent))


def find_hostdev(domain: libvirt.virDomain, device: Device,
                 persistent: bool) -> str | None:
    """The hostdev of ``device`` (a PCI address, an mdev's UUID) as the
    domain holds it, or None.

    The live guest's element carries the alias libvirt gave the device,
    which Nova's live detach needs to recognise its device-removed event.
    """
    element = _hostdevs(domain, persistent).get(device)
    if element is None:
        return None
    return ET.tostring(element, encoding='unicode')


def _all_addresses(domain: libvirt.virDomain) -> set[Device]:
    held = set()
    if domain.isPersistent():
        held |= hostdev_addresses(domain, persistent=True)
    if domain.isActive():
        held |= hostdev_addresses(domain, persistent=False)
    return held


def users(conn: libvirt.virConnect, accel: Accelerator,
          except_uuid: str) -> list[str]:
    """UUIDs of the other domains holding the unit (or the PF of a VF; or,
    for an mdev, its VF whole), in their persistent definition or live,
    running or not."""
    wanted = {accel.device, accel.pci_address} | (
        {accel.physfn} if accel.physfn else set())
    found = []
    for domain in conn.listAllDomains():
        try:
            if domain.UUIDString() == except_uuid:
                continue
            if wanted & _all_addresses(domain):
                found.append(domain.UUIDString())
        except libvirt.libvirtError as ex:
            # Undefined while we looked: it holds nothing any more.
            if ex.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise refused(ex) from ex
    return found


def ensure_free(conn: libvirt.virConnect, accel: Accelerator,
                instance_uuid: str) -> None:
    """Refuse a unit another guest holds: libvirt itself would accept it in
    a shut-off guest's definition, and the clash would appear only at boot."""
    holders = users(conn, accel, except_uuid=instance_uuid)
    if holders:
        raise HostdevError(
            DEVICE_IN_USE,
            f'{_named(accel)} is already used by domain(s) '
            f'{", ".join(holders)}')


def _named(accel: Accelerator) -> str:
    if accel.is_mdev:
        return f'mdev {accel.device} (on PCI device {accel.pci_address})'
    return f'PCI device {accel.pci_address}'


def attach(conn: libvirt.virConnect, instance_uuid: str,
           accel: typing.Any) -> bool:
    """Attach; True if something changed, False if it was already there."""
    accel = Accelerator.coerce(accel)
    domain = lookup_domain(conn, instance_uuid)
    ensure_free(conn, accel, instance_uuid)
    try:
        flags = _missing_from(domain, accel.device, present=False)
        if flags:
            domain.attachDeviceFlags(hostdev_xml(accel), flags)
    except libvirt.libvirtError as ex:
        raise refused(ex) from ex
    return bool(flags)


def detach(conn: libvirt.virConnect, instance_uuid: str, accel: typing.Any,
           detach_live: LiveDetach | None = None) -> bool:
    """Detach; True if something changed, False if it was already gone.

    The persistent definition changes at once. A live detach needs the
    guest's consent, which ``detach_live`` waits for: by default
    :func:`wait_for_live_detach`; Nova's driver passes its own, which waits
    for libvirt's device-removed event the way Nova detaches any device.
    """
    accel = Accelerator.coerce(accel)
    domain = lookup_domain(conn, instance_uuid)
    try:
        flags = _missing_from(domain, accel.device, present=True)
        if flags & _CONFIG:
            domain.detachDeviceFlags(hostdev_xml(accel), _CONFIG)
        if flags & _LIVE:
            (detach_live or wait_for_live_detach)(domain, accel)
    except libvirt.libvirtError as ex:
        raise refused(ex) from ex
    return bool(flags)


def _missing_from(domain: libvirt.virDomain, device: Device,
                  present: bool) -> int:
    """The AFFECT_* flags of the definitions where ``device`` is
    ``present`` (for a detach) or absent (for an attach)."""
    flags = 0
    if domain.isPersistent() and present == (
            device in hostdev_addresses(domain, persistent=True)):
        flags |= _CONFIG
    if domain.isActive() and present == (
            device in hostdev_addresses(domain, persistent=False)):
        flags |= _LIVE
    return flags


def wait_for_live_detach(domain: libvirt.virDomain, accel: Accelerator,
                         attempts: int = 8, wait_seconds: float = 5.0) -> None:
    """Ask the running guest to release the device, and wait until it did.

    libvirt returns before the guest lets go, so the live definition is
    polled and the request repeated, as Nova does, for up to ``attempts``
    times ``wait_seconds``.
    """
    xml = hostdev_xml(accel)
    for _ in range(attempts):
        try:
            domain.detachDeviceFlags(xml, _LIVE)
        except libvirt.libvirtError as ex:
            # A repeated request while QEMU still unplugs: keep waiting.
            if 'already in the process of unplug' not in str(ex):
                raise
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if accel.device not in hostdev_addresses(domain,
                                                     persistent=False):
                return
            time.sleep(0.2)
    raise HostdevError(
        DETACH_FAILED,
        f'the guest did not release {_named(accel)} after {attempts} '
        f'detach requests')
