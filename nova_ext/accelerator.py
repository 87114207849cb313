"""The accelerator a guest receives, and the one error every attach path raises.

No Nova import here: the agent's reconciler uses this module through
:mod:`nova_ext.libvirt_hostdev` on hosts where Nova's code may not be installed.
"""
import dataclasses
import re
import typing

_PCI_ADDRESS = re.compile(
    r'^(?P<domain>[0-9a-fA-F]{4}):(?P<bus>[0-9a-fA-F]{2}):'
    r'(?P<slot>[0-1][0-9a-fA-F])\.(?P<function>[0-7])$')

# HostdevError.kind values: what the reconciler and operators act on.
BAD_ADDRESS = 'bad_address'
DOMAIN_NOT_FOUND = 'domain_not_found'
DEVICE_IN_USE = 'device_in_use'
LIBVIRT_REFUSED = 'libvirt_refused'
DETACH_FAILED = 'detach_failed'

#: A vGPU unit's ``vgpu_interface`` (as the API shows it): a vendor-VFIO
#: vGPU's VF, or a mediated device.
VGPU_VFIO = 'vfio'
VGPU_MDEV = 'mdev'


class HostdevError(Exception):
    """An accelerator could not be attached to or detached from a guest.

    One type for every cause, so the reconciler has one thing to catch and
    report as ``attach_failed``; ``kind`` tells the causes apart, ``reason``
    is libvirt's own message when libvirt refused, ``libvirt_code`` its
    ``VIR_ERR_*`` number.
    """

    def __init__(self, kind: str, reason: str,
                 libvirt_code: int | None = None) -> None:
        super().__init__(f'{kind}: {reason}')
        self.kind = kind
        self.reason = reason
        self.libvirt_code = libvirt_code


class PciAddress(typing.NamedTuple):
    """A PCI function address as numbers, so '0x6b' and '6b' compare equal."""

    domain: int
    bus: int
    slot: int
    function: int

    @classmethod
    def parse(cls, text: str) -> 'PciAddress':
        """Parse 'DDDD:BB:SS.F' (sysfs form), raising HostdevError if malformed."""
        match = _PCI_ADDRESS.match(text or '')
        if not match:
            raise HostdevError(
                BAD_ADDRESS, f'{text!r} is not a PCI address DDDD:BB:SS.F')
        return cls(*(int(match[part], 16)
                     for part in ('domain', 'bus', 'slot', 'function')))

    @classmethod
    def from_libvirt(cls, domain: str, bus: str, slot: str,
                     function: str) -> 'PciAddress':
        """From libvirt's hex attributes, with or without a 0x prefix."""
        return cls(int(domain, 16), int(bus, 16), int(slot, 16),
                   int(function, 16))

    def hex_fields(self) -> dict[str, str]:
        """Nova's spelling: hex without 0x, as its ARQ attach_handle_info."""
        return {'domain': f'{self.domain:04x}', 'bus': f'{self.bus:02x}',
                'device': f'{self.slot:02x}', 'function': f'{self.function:x}'}

    def __str__(self) -> str:
        return (f'{self.domain:04x}:{self.bus:02x}:{self.slot:02x}.'
                f'{self.function:x}')


#: What identifies a hostdev in a guest: a PCI function's address, or an
#: mdev's UUID (lower case).
Device = PciAddress | str


@dataclasses.dataclass(frozen=True)
class Accelerator:
    """One unit to put into a guest: a whole PF, or a VF (with its PF), or
    a vGPU.

    ``physfn`` is the PF of a VF: a guest holding that PF holds every VF of
    it, so it counts as a user of the VF. A vendor-VFIO vGPU
    (``vgpu_interface`` vfio) is its VF, which goes in unmanaged: libvirt
    must leave it on the vendor driver that holds the vGPU. An mdev vGPU
    goes in as its mdev (``mdev_uuid``, on the VF ``pci_address``).
    """

    pci_address: PciAddress
    uuid: str | None = None
    physfn: PciAddress | None = None
    vgpu_interface: str | None = None
    mdev_uuid: str | None = None

    @property
    def is_mdev(self) -> bool:
        return self.vgpu_interface == VGPU_MDEV

    @property
    def managed(self) -> bool:
        """Whether libvirt binds the PCI function to vfio-pci itself."""
        return self.vgpu_interface != VGPU_VFIO

    @property
    def device(self) -> Device:
        """Its hostdev's identity in a guest."""
        return self.mdev_uuid.lower() if self.is_mdev else self.pci_address

    @classmethod
    def coerce(cls, accel: typing.Any) -> 'Accelerator':
        """Accept what callers have: a mapping (an API record), an object
        with the same attribute names, or an Accelerator.

        Keys read: ``pci_address`` (required, 'DDDD:BB:SS.F'), ``uuid``,
        ``physfn``, ``vgpu_interface`` and ``mdev_uuid`` (optional; an mdev
        unit without its UUID is refused).
        """
        if isinstance(accel, cls):
            return accel
        if isinstance(accel, typing.Mapping):
            get = accel.get
        else:
            def get(name):
                return getattr(accel, name, None)
        physfn = get('physfn')
        made = cls(pci_address=_address(get('pci_address')),
                   uuid=get('uuid'),
                   physfn=_address(physfn) if physfn else None,
                   vgpu_interface=get('vgpu_interface'),
                   mdev_uuid=get('mdev_uuid'))
        if made.is_mdev and not made.mdev_uuid:
            raise HostdevError(BAD_ADDRESS, f'mdev vGPU on {made.pci_address} '
                               'has no mdev_uuid')
        return made


def _address(value: typing.Any) -> PciAddress:
    return value if isinstance(value, PciAddress) else PciAddress.parse(value)
