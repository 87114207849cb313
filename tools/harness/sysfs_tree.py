"""Build directories that look like Linux sysfs, from device descriptions.

Hardware that is not on the machine is described by such trees, made from real
vendor/product/class ids: the tests, the benchmarks and the demo's clearly
labelled sample host all use them. The layout matches the kernel's: devices live
under ``devices/pci0000:XX/`` and ``bus/pci/devices/<address>`` links to them;
``driver``, ``iommu_group``, ``virtfnN`` and ``physfn`` are relative symlinks.
``uevent`` holds what the kernel's ``pci_uevent`` prints (``DRIVER`` while
bound, ``PCI_CLASS``, ``PCI_ID``, ``PCI_SUBSYS_ID`` when the function has
subsystem ids, ``PCI_SLOT_NAME``, ``MODALIAS``), ``config`` the function's
config-space header and ``aer_dev_fatal`` / ``aer_dev_nonfatal`` its AER
counters in the kernel's format; the methods after ``add`` make a function
fail as real ones do (counters grow, config space reads all ones, the driver
or the function itself goes away). ``add_node`` describes the CPU side: a
NUMA node's ``cpulist`` under ``devices/system/node`` and its CPUs'
``topology/physical_package_id`` (the socket) under ``devices/system/cpu``.
"""
import dataclasses
import os
import pathlib
import shutil


@dataclasses.dataclass
class MdevType:
    """One ``mdev_supported_types/<name>`` directory. ``max_per_gpu`` is
    what the vGPU manager stand-in (:mod:`.vgpu_manager`) caps the type at
    over the whole GPU (None: ``available_instances`` of this parent)."""

    name: str
    available_instances: int
    device_api: str = 'vfio-pci'
    pretty_name: str | None = None
    max_per_gpu: int | None = None


@dataclasses.dataclass(frozen=True)
class VgpuType:
    """A vGPU type of NVIDIA's vendor-specific VFIO interface: the id a VF's
    ``nvidia/current_vgpu_type`` takes, the name ``creatable_vgpu_types``
    lists, and how many one GPU holds (NVIDIA's "maximum vGPUs per GPU")."""

    type_id: str
    name: str
    max_per_gpu: int


@dataclasses.dataclass
class PciFunction:
    """One PCI function as the kernel shows it (ids in lower-case hex, no 0x)."""

    address: str
    vendor: str
    device: str
    pci_class: str
    subsystem_vendor: str | None = None
    subsystem_device: str | None = None
    revision: str = '00'
    numa_node: int = -1
    driver: str | None = None
    iommu_group: int | None = None
    sriov_totalvfs: int = 0
    vfs: list['PciFunction'] = dataclasses.field(default_factory=list)
    mdev_types: list[MdevType] = dataclasses.field(default_factory=list)
    #: On a VF of a GPU in vendor-specific VFIO vGPU mode: the types its
    #: ``nvidia/creatable_vgpu_types`` lists while the GPU holds no vGPU.
    vgpu_types: list[VgpuType] = dataclasses.field(default_factory=list)


#: The header line the vGPU manager prints above the types it lists.
CREATABLE_HEADER = 'ID    : vGPU Name'


def creatable_text(types: list[VgpuType]) -> str:
    """``nvidia/creatable_vgpu_types`` as the vGPU manager prints it."""
    return '\n'.join([CREATABLE_HEADER] + [
        f'{t.type_id:<6}: {t.name}' for t in types])


def _write(path: pathlib.Path, value: str) -> None:
    path.write_text(value + '\n')


#: The kernel's uncorrectable error kinds (drivers/pci/pcie/aer.c), in the
#: order ``aer_dev_fatal`` and ``aer_dev_nonfatal`` list them.
AER_UNCORRECTABLE = ('Undefined', 'DLP', 'SDES', 'TLP', 'FCP', 'CmpltTO',
                     'CmpltAbrt', 'UnxCmplt', 'RxOF', 'MalfTLP', 'ECRC',
                     'UnsupReq', 'ACSViol', 'UncorrIntErr', 'BlockedTLP',
                     'AtomicOpBlocked', 'TLPBlockedErr', 'PoisonTLPBlocked')


def aer_text(total_key: str, counts: dict[str, int]) -> str:
    """An AER counter file as the kernel prints it."""
    lines = [f'{kind} {counts.get(kind, 0)}' for kind in AER_UNCORRECTABLE]
    lines.append(f'{total_key} {sum(counts.values())}')
    return '\n'.join(lines)


def config_header(function: 'PciFunction') -> bytes:
    """The first 64 bytes of config space: ids, revision, class."""
    header = bytearray(64)
    header[0:2] = int(function.vendor, 16).to_bytes(2, 'little')
    header[2:4] = int(function.device, 16).to_bytes(2, 'little')
    header[8] = int(function.revision, 16)
    header[9:12] = int(function.pci_class, 16).to_bytes(3, 'little')
    return bytes(header)


def uevent_lines(function: 'PciFunction') -> list[str]:
    """The function's ``uevent``, as ``pci_uevent`` formats it: upper-case
    hex, the class without leading zeros (``%04X``). Without subsystem ids
    (the tree has no such files) there is no ``PCI_SUBSYS_ID``."""
    def hex_of(value: str | None, digits: int) -> str:
        return f'{int(value or "0", 16):0{digits}X}'
    klass = int(function.pci_class, 16)
    ids = (function.vendor, function.device)
    subsystem = (function.subsystem_vendor, function.subsystem_device)
    lines = [f'DRIVER={function.driver}'] if function.driver else []
    lines += [f'PCI_CLASS={klass:04X}',
              'PCI_ID={}:{}'.format(*(hex_of(v, 4) for v in ids))]
    if None not in subsystem:
        lines.append('PCI_SUBSYS_ID={}:{}'.format(
            *(hex_of(v, 4) for v in subsystem)))
    lines += [f'PCI_SLOT_NAME={function.address}',
              'MODALIAS=pci:v{}d{}sv{}sd{}bc{:02X}sc{:02X}i{:02X}'.format(
                  *(hex_of(v, 8) for v in (*ids, *subsystem)),
                  klass >> 16, (klass >> 8) & 0xff, klass & 0xff)]
    return lines


def cpulist(cpus: list[int]) -> str:
    """CPU numbers in the kernel's list format (``0-3,8``), as
    ``bitmap_print_to_pagebuf`` prints them."""
    ranges: list[list[int]] = []
    for cpu in sorted(cpus):
        if ranges and cpu == ranges[-1][1] + 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ','.join(f'{a}' if a == b else f'{a}-{b}' for a, b in ranges)


def _link(link: pathlib.Path, target: pathlib.Path) -> None:
    link.symlink_to(os.path.relpath(target, link.parent))


class SysfsTree:
    """A sysfs-like directory; ``add`` writes one function (and its VFs)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = pathlib.Path(root)
        self.bus = self.root / 'bus' / 'pci'
        (self.bus / 'devices').mkdir(parents=True, exist_ok=True)
        (self.bus / 'drivers').mkdir(parents=True, exist_ok=True)
        (self.root / 'kernel' / 'iommu_groups').mkdir(parents=True, exist_ok=True)
        probe = self.bus / 'drivers_probe'
        if not probe.exists():
            probe.write_text('')

    def device_dir(self, address: str) -> pathlib.Path:
        domain_bus = address.rsplit(':', 1)[0]
        return self.root / 'devices' / f'pci{domain_bus}' / address

    def driver_dir(self, name: str) -> pathlib.Path:
        path = self.bus / 'drivers' / name
        if not path.exists():
            path.mkdir(parents=True)
            for entry in ('bind', 'unbind', 'new_id', 'remove_id'):
                (path / entry).write_text('')
        return path

    def add(self, function: PciFunction, physfn: str | None = None) -> None:
        path = self.device_dir(function.address)
        path.mkdir(parents=True, exist_ok=True)
        for name in ('vendor', 'device', 'subsystem_vendor',
                     'subsystem_device'):
            value = getattr(function, name)
            if value is not None:
                _write(path / name, f'0x{value}')
        _write(path / 'class', f'0x{function.pci_class}')
        _write(path / 'revision', f'0x{function.revision}')
        _write(path / 'numa_node', str(function.numa_node))
        _write(path / 'driver_override', '(null)')
        _write(path / 'uevent', '\n'.join(uevent_lines(function)))
        (path / 'config').write_bytes(config_header(function))
        self.set_aer(function.address)
        _link(self.bus / 'devices' / function.address, path)
        if function.driver:
            driver = self.driver_dir(function.driver)
            _link(path / 'driver', driver)
            _link(driver / function.address, path)
        if function.iommu_group is not None:
            group = self.root / 'kernel' / 'iommu_groups' / str(
                function.iommu_group)
            (group / 'devices').mkdir(parents=True, exist_ok=True)
            _link(path / 'iommu_group', group)
            _link(group / 'devices' / function.address, path)
        if function.sriov_totalvfs or function.vfs:
            _write(path / 'sriov_totalvfs',
                   str(max(function.sriov_totalvfs, len(function.vfs))))
            _write(path / 'sriov_numvfs', str(len(function.vfs)))
        if function.vfs:
            _write(path / 'sriov_vf_device', function.vfs[0].device)
        for index, vf in enumerate(function.vfs):
            self.add(vf, physfn=function.address)
            _link(path / f'virtfn{index}', self.device_dir(vf.address))
        if physfn:
            _link(path / 'physfn', self.device_dir(physfn))
        for mdev in function.mdev_types:
            mdir = path / 'mdev_supported_types' / mdev.name
            (mdir / 'devices').mkdir(parents=True, exist_ok=True)
            _write(mdir / 'available_instances', str(mdev.available_instances))
            _write(mdir / 'device_api', mdev.device_api)
            if mdev.pretty_name:
                _write(mdir / 'name', mdev.pretty_name)
            (mdir / 'create').write_text('')
        if function.vgpu_types:
            nvidia = path / 'nvidia'
            nvidia.mkdir(exist_ok=True)
            _write(nvidia / 'creatable_vgpu_types',
                   creatable_text(function.vgpu_types))
            _write(nvidia / 'current_vgpu_type', '0')

    def mdev_devices(self) -> pathlib.Path:
        """``bus/mdev/devices``: one link per mediated device made."""
        path = self.root / 'bus' / 'mdev' / 'devices'
        path.mkdir(parents=True, exist_ok=True)
        return path

    def add_node(self, node: int, cpus: list[int], package: int) -> None:
        """NUMA node ``node`` with ``cpus``, all on socket ``package``
        (its ``physical_package_id``); no ``cpus``: a memory-only node."""
        system = self.root / 'devices' / 'system'
        node_dir = system / 'node' / f'node{node}'
        node_dir.mkdir(parents=True, exist_ok=True)
        _write(node_dir / 'cpulist', cpulist(cpus))
        for cpu in cpus:
            topology = system / 'cpu' / f'cpu{cpu}' / 'topology'
            topology.mkdir(parents=True, exist_ok=True)
            _write(topology / 'physical_package_id', str(package))
            _link(node_dir / f'cpu{cpu}', topology.parent)

    def drop_uevent_keys(self, address: str, *keys: str) -> None:
        """Leave ``keys`` out of the function's ``uevent`` (older kernels
        print fewer; a driver gone leaves no ``DRIVER``)."""
        path = self.device_dir(address) / 'uevent'
        kept = [line for line in path.read_text().splitlines()
                if line.split('=', 1)[0] not in keys]
        _write(path, '\n'.join(kept))

    def set_aer(self, address: str, fatal: dict[str, int] | None = None,
                nonfatal: dict[str, int] | None = None) -> None:
        """Write the function's AER counters (per error kind; none: 0)."""
        path = self.device_dir(address)
        _write(path / 'aer_dev_fatal', aer_text('TOTAL_ERR_FATAL',
                                                fatal or {}))
        _write(path / 'aer_dev_nonfatal', aer_text('TOTAL_ERR_NONFATAL',
                                                   nonfatal or {}))

    def stop_answering(self, address: str) -> None:
        """The function fell off the bus: config space reads all ones."""
        (self.device_dir(address) / 'config').write_bytes(b'\xff' * 64)

    def unload_driver(self, name: str) -> None:
        """The driver's directory goes; links to it dangle, and the
        functions it drove no longer name it in their ``uevent``."""
        driver = self.bus / 'drivers' / name
        for link in driver.iterdir():
            if link.is_symlink():
                self.drop_uevent_keys(link.name, 'DRIVER')
        shutil.rmtree(driver)

    def lose_function(self, address: str) -> None:
        """The kernel lost the function: its directory and bus link go,
        while a PF's ``virtfnN`` link to it stays (dangling)."""
        shutil.rmtree(self.device_dir(address))
        (self.bus / 'devices' / address).unlink()

    def add_all(self, functions: list[PciFunction]) -> 'SysfsTree':
        for function in functions:
            self.add(function)
        return self


def build(root: str | os.PathLike, functions: list[PciFunction]) -> SysfsTree:
    """Create ``root`` as a sysfs tree holding ``functions``."""
    return SysfsTree(root).add_all(functions)
