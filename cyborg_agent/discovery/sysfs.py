"""Read PCI functions from a sysfs tree, tolerating what real machines get wrong.

Real sysfs trees are messy: devices vanish while we read them, drivers leave
dangling links, firmware reports nonsense. A bad fact is skipped with one warning
naming the path; a function without readable ids is skipped as a whole. Nothing
here raises for bad data, because one broken device must not hide the others.

Facts that are absent by nature (no driver bound, no IOMMU, not SR-IOV capable,
no mdev support) are skipped silently: only broken data is worth a warning.
"""
import dataclasses
import os
import re

from oslo_log import log as logging

from cyborg_agent.discovery import signals
from cyborg_agent.discovery import uevent

LOG = logging.getLogger(__name__)

ADDRESS = re.compile(r'^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$')
_VIRTFN = re.compile(r'^virtfn(\d+)$')


@dataclasses.dataclass
class MdevTypeInfo:
    """One mediated device type a function offers (``mdev_supported_types``)."""

    type_id: str
    available_instances: int
    device_api: str | None = None
    name: str | None = None
    #: UUIDs of the mdevs of this type made on this parent.
    devices: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class VendorVgpu:
    """A VF's ``nvidia/`` directory (NVIDIA's vendor-specific VFIO vGPU):
    the type id of the vGPU it holds (``0``: none) and, type id -> name,
    what the driver would create on it now."""

    current: str
    creatable: dict[str, str]


@dataclasses.dataclass
class PciRecord:
    """Everything discovery learnt about one PCI function.

    Ids are lower-case hex without ``0x``: 4 digits for vendor/product, 6 for
    the class, 2 for the revision. ``facts`` holds what enrichment plugins add.
    """

    address: str
    vendor_id: str
    product_id: str
    pci_class: str
    subsystem_vendor_id: str | None = None
    subsystem_product_id: str | None = None
    revision: str | None = None
    numa_node: int | None = None
    #: The CPU socket of ``numa_node`` (:mod:`.topology`), set by discovery.
    socket: int | None = None
    iommu_group: int | None = None
    driver: str | None = None
    sriov_totalvfs: int | None = None
    sriov_numvfs: int | None = None
    virtfns: list[str] = dataclasses.field(default_factory=list)
    physfn: str | None = None
    mdev_types: list[MdevTypeInfo] = dataclasses.field(default_factory=list)
    vendor_name: str | None = None
    product_name: str | None = None
    facts: dict = dataclasses.field(default_factory=dict)
    #: Health signals (:mod:`.signals`): AER totals by counter file, what is
    #: wrong now, and VFs the PF links to that are gone.
    aer: dict[str, int] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)
    lost_vfs: list[str] = dataclasses.field(default_factory=list)
    sriov_vf_device: str | None = None
    vgpu: VendorVgpu | None = None


def _warn(path: str, problem: str) -> None:
    LOG.warning('sysfs: %s: %s; skipped', path, problem)


def read_text(path: str, optional: bool = False) -> str | None:
    """The stripped text of ``path``, or None (with a warning) when unusable."""
    try:
        data = signals.read_bytes(path, 4096)
    except FileNotFoundError:
        if not optional:
            _warn(path, 'missing')
        return None
    except OSError as exc:
        _warn(path, f'unreadable ({exc.strerror or exc})')
        return None
    try:
        return data.decode('ascii').strip()
    except UnicodeDecodeError:
        _warn(path, 'not ASCII text')
        return None


def read_hex(path: str, digits: int, optional: bool = False) -> str | None:
    """``0x10de`` -> ``10de``; anything but ``digits`` hex digits is malformed.

    Discovery reads ids with it, and so does host attach (its rules match
    the ids discovery matched).
    """
    text = read_text(path, optional)
    if text is None:
        return None
    value = text[2:] if text[:2].lower() == '0x' else text
    if len(value) != digits or not re.fullmatch(r'[0-9a-fA-F]+', value):
        _warn(path, f'malformed value {text!r} (expected {digits} hex digits)')
        return None
    return value.lower()


def read_int(path: str, optional: bool = False) -> int | None:
    text = read_text(path, optional)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        _warn(path, f'malformed value {text!r} (expected an integer)')
        return None


def _link_name(path: str) -> str | None:
    """Name of the link's target, or None: absent silently, dangling loudly.

    The kernel's links (``driver``, ``iommu_group``, ``virtfnN``,
    ``physfn``) point at the directory itself, so the target's last part is
    its name: no need to resolve every part of the path.
    """
    try:
        target = os.readlink(path)
    except FileNotFoundError:
        return None
    except OSError:
        if os.path.exists(path):
            _warn(path, 'not a symbolic link')
        return None
    if not os.path.exists(path):
        _warn(path, f'dangling link to {target}')
        return None
    return os.path.basename(target.rstrip('/'))


def _linked_address(path: str) -> str | None:
    name = _link_name(path)
    if name is not None and not ADDRESS.match(name):
        _warn(path, f'links to {name!r}, which is not a PCI address')
        return None
    return name


def _numa_node(path: str) -> int | None:
    """-1 (and no file, on kernels without NUMA) mean: no NUMA affinity."""
    node = read_int(path, optional=True)
    return None if node is None or node < 0 else node


def _iommu_group(path: str) -> int | None:
    name = _link_name(path)
    if name is None:
        return None
    if not name.isdigit():
        _warn(path, f'links to {name!r}, which is not an IOMMU group number')
        return None
    return int(name)


def _virtfns(device: str, entries: frozenset[str]
             ) -> tuple[list[str], list[str]]:
    """VF addresses in VF index order (``virtfn10`` after ``virtfn9``), and
    the addresses of VFs the kernel lost (their link dangles: a health
    signal), from one pass over the ``virtfn*`` links."""
    found, lost = [], []
    for entry in sorted(e for e in entries if e.startswith('virtfn')):
        path = f'{device}/{entry}'
        match = _VIRTFN.match(entry)
        address = _linked_address(path) if match else None
        if address is not None:
            found.append((int(match.group(1)), address))
        elif os.path.islink(path) and not os.path.exists(path):
            lost.append(os.path.basename(os.readlink(path)))
    return ([address for _index, address in sorted(found)],
            [vf for vf in lost if ADDRESS.match(vf)])


def _mdev_types(base: str) -> list[MdevTypeInfo]:
    try:
        type_ids = sorted(os.listdir(base))
    except OSError as exc:
        _warn(base, f'cannot list mdev types ({exc.strerror or exc})')
        return []
    types = []
    for type_id in type_ids:
        path = os.path.join(base, type_id)
        available = read_int(os.path.join(path, 'available_instances'))
        if available is None:
            continue
        try:
            devices = sorted(os.listdir(os.path.join(path, 'devices')))
        except OSError:
            devices = []
        types.append(MdevTypeInfo(
            type_id, available,
            read_text(os.path.join(path, 'device_api')),
            read_text(os.path.join(path, 'name'), optional=True), devices))
    return types


#: A line of ``creatable_vgpu_types``: ``1414  : NVIDIA H200X-1-18C``;
#: the header (``ID    : vGPU Name``) does not match.
_CREATABLE = re.compile(r'^\s*(\d+)\s*:\s*(\S.*?)\s*$')


def _vendor_vgpu(path: str) -> VendorVgpu | None:
    current = read_text(os.path.join(path, 'current_vgpu_type'))
    if current is None:
        return None
    if not current.isdigit():
        _warn(f'{path}/current_vgpu_type',
              f'malformed value {current!r} (expected a type id)')
        return None
    listed = read_text(os.path.join(path, 'creatable_vgpu_types'))
    creatable = {}
    for line in (listed or '').splitlines():
        match = _CREATABLE.match(line)
        if match:
            creatable[match.group(1)] = match.group(2)
    return VendorVgpu(current, creatable)


def _identity(device: str, address: str) -> dict[str, str]:
    """What the function's ``uevent`` says, by the name of each fact's own
    file; a fact it gets wrong is read from that file (one warning)."""
    path = f'{device}/uevent'
    text = read_text(path)
    if text is None:
        return {}
    found, problems = uevent.facts(text, address)
    for problem in problems:
        _warn(path, problem)
    return found


def read_function(device: str, address: str, entries: frozenset[str]
                  ) -> PciRecord | None:
    """One function from its sysfs directory, whose names are ``entries``;
    None when its ids are unusable.

    Facts whose files are absent by nature (no SR-IOV, no driver, no mdev
    types) are not looked for. The ids and the driver come from one read of
    ``uevent``; whatever it lacks, from its own file. A driver ``uevent``
    names is bound: its link cannot dangle (the kernel's unbind removes
    both), so only a link ``uevent`` does not explain is checked.
    """
    known = _identity(device, address) if 'uevent' in entries else {}

    def fact(name: str, digits: int) -> str | None:
        value = known.get(name)
        return read_hex(f'{device}/{name}', digits) if value is None \
            else value

    def present(name: str, read) -> object:
        return read(f'{device}/{name}') if name in entries else None

    ids = []
    for name, digits in (('vendor', 4), ('device', 4), ('class', 6)):
        ids.append(fact(name, digits))
        if ids[-1] is None:
            return None  # one warning is enough for a device we cannot use
    virtfns, lost_vfs = _virtfns(device, entries)
    return PciRecord(
        address, *ids,
        subsystem_vendor_id=fact('subsystem_vendor', 4),
        subsystem_product_id=fact('subsystem_device', 4),
        revision=read_hex(f'{device}/revision', 2),
        numa_node=present('numa_node', _numa_node),
        iommu_group=present('iommu_group', _iommu_group),
        driver=known.get('driver') or present('driver', _link_name),
        sriov_totalvfs=present('sriov_totalvfs', read_int),
        sriov_numvfs=present('sriov_numvfs', read_int),
        virtfns=virtfns,
        physfn=present('physfn', _linked_address),
        mdev_types=present('mdev_supported_types', _mdev_types) or [],
        aer=signals.read_aer(device),
        problems=signals.problems(
            device, 'driver' in entries and 'driver' not in known),
        lost_vfs=lost_vfs,
        sriov_vf_device=present('sriov_vf_device',
                                lambda path: read_hex(path, 4)),
        vgpu=present('nvidia', _vendor_vgpu),
    )


def read_functions(sysfs_root: str) -> list[PciRecord]:
    """Every readable PCI function under ``<sysfs_root>/bus/pci/devices``."""
    devices = os.path.join(sysfs_root, 'bus', 'pci', 'devices')
    try:
        entries = sorted(os.listdir(devices))
    except OSError as exc:
        _warn(devices, f'cannot list PCI devices ({exc.strerror or exc})')
        return []
    records = []
    for address in entries:
        path = f'{devices}/{address}'
        if not ADDRESS.match(address):
            _warn(path, 'not a PCI address')
            continue
        try:
            names = frozenset(os.listdir(path))
        except (FileNotFoundError, NotADirectoryError):
            _warn(path, 'dangling link' if os.path.islink(path)
                  else 'not a device directory')
            continue
        try:
            record = read_function(path, address, names)
        except OSError as exc:  # e.g. hot-unplugged while being read
            _warn(path, f'unreadable device ({exc.strerror or exc})')
            continue
        if record is not None:
            records.append(record)
    return records
