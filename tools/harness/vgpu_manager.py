"""A stand-in for NVIDIA's vGPU manager: the kernel's side of vGPU files.

In a real host, writing a type id to a VF's ``nvidia/current_vgpu_type``
makes the driver create the vGPU (or refuse), and it then changes what the
GPU's other VFs list in ``creatable_vgpu_types``; writing a UUID to an mdev
type's ``create`` makes ``bus/mdev/devices/<uuid>`` appear and lowers
``available_instances``. Plain files cannot react to writes, so this thread
polls the files the code under test writes (every ``interval`` seconds) and
does what the driver does, the way the driver's rules are documented:

- a VF holds at most one vGPU (its ``creatable_vgpu_types`` is then empty,
  its header line aside), and ``0`` deletes it;
- one GPU holds vGPUs of one type at a time (Hopper's time-sliced "equal
  size" mode; a MIG-backed and a whole-card type do not mix either), at
  most the type's "maximum vGPUs per GPU": past that, no free VF lists it;
- for mdev (an A100's VFs, one mdev per VF): the same two rules, shown in
  each type's ``available_instances``; ``<mdev>/remove`` deletes one.

A write the driver would refuse (a type the VF does not list, a second
vGPU on a VF, an mdev past ``available_instances``) is undone: the file
gets its accepted value back. The real kernel fails the write itself; the
code under test therefore checks what the VF lists before it writes, and
reads back after (:mod:`cyborg_agent.privileged.vgpu`). Polling, not
inotify, because it is the simplest thing that sees every write, whatever
process makes it (the agent's privileged daemon, nova-compute's driver);
what the pause costs is a lag between a write and its effects that the
real driver does not have (tests wait for it with :meth:`settle`).
"""
import os
import pathlib
import re
import shutil
import threading
import time

from tools.harness import sysfs_tree

_UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                   r'[0-9a-f]{12}$')


class _VendorGpu:
    """One GPU of the vendor-specific VFIO interface and its VFs."""

    def __init__(self, tree: sysfs_tree.SysfsTree,
                 pf: sysfs_tree.PciFunction) -> None:
        self.tree = tree
        self.vfs = [vf.address for vf in pf.vfs]
        self.types = {t.type_id: t for t in pf.vfs[0].vgpu_types}
        self.accepted = {vf: '0' for vf in self.vfs}

    def _file(self, vf: str, name: str) -> pathlib.Path:
        return self.tree.device_dir(vf) / 'nvidia' / name

    def creatable(self, vf: str) -> list[sysfs_tree.VgpuType]:
        """What the driver lists on ``vf`` now."""
        if self.accepted[vf] != '0':
            return []
        held = [t for t in self.accepted.values() if t != '0']
        return [t for t in self.types.values()
                if all(h == t.type_id for h in held)
                and len(held) < t.max_per_gpu]

    def step(self) -> None:
        for vf in self.vfs:
            path = self._file(vf, 'current_vgpu_type')
            written = path.read_text().strip()
            if written in ('', self.accepted[vf]):
                continue  # unchanged, or a write between truncate and data
            if written == '0' or (self.accepted[vf] == '0' and written in {
                    t.type_id for t in self.creatable(vf)}):
                self.accepted[vf] = written
            else:  # refused: the file shows what the VF holds again
                path.write_text(self.accepted[vf] + '\n')
        for vf in self.vfs:
            _write_if_changed(self._file(vf, 'creatable_vgpu_types'),
                              sysfs_tree.creatable_text(self.creatable(vf)))

    def lose_all(self) -> None:
        for vf in self.vfs:
            self.accepted[vf] = '0'
            self._file(vf, 'current_vgpu_type').write_text('0\n')


class _MdevGpu:
    """One GPU whose VFs are each the parent of one mdev."""

    def __init__(self, tree: sysfs_tree.SysfsTree,
                 pf: sysfs_tree.PciFunction) -> None:
        self.tree = tree
        self.vfs = [vf.address for vf in pf.vfs]
        self.types = {t.name: t for t in pf.vfs[0].mdev_types}
        #: uuid -> (parent VF, type name)
        self.mdevs: dict[str, tuple[str, str]] = {}

    def _type_dir(self, vf: str, name: str) -> pathlib.Path:
        return self.tree.device_dir(vf) / 'mdev_supported_types' / name

    def available(self, vf: str, name: str) -> int:
        held = [t for parent, t in self.mdevs.values()]
        if any(parent == vf for parent, _t in self.mdevs.values()):
            return 0
        kind = self.types[name]
        if any(t != name for t in held) or (
                kind.max_per_gpu is not None
                and held.count(name) >= kind.max_per_gpu):
            return 0
        return kind.available_instances

    def _create(self, vf: str, name: str, uuid: str) -> None:
        device = self.tree.device_dir(vf) / uuid
        device.mkdir()
        (device / 'remove').write_text('')
        type_dir = self._type_dir(vf, name)
        sysfs_tree._link(device / 'mdev_type', type_dir)
        sysfs_tree._link(type_dir / 'devices' / uuid, device)
        sysfs_tree._link(self.tree.mdev_devices() / uuid, device)
        self.mdevs[uuid] = (vf, name)

    def _remove(self, uuid: str) -> None:
        vf, name = self.mdevs.pop(uuid)
        (self.tree.mdev_devices() / uuid).unlink()
        (self._type_dir(vf, name) / 'devices' / uuid).unlink()
        shutil.rmtree(self.tree.device_dir(vf) / uuid)

    def step(self) -> None:
        for uuid, (vf, _name) in list(self.mdevs.items()):
            remove = self.tree.device_dir(vf) / uuid / 'remove'
            if remove.read_text().strip():
                self._remove(uuid)
        for vf in self.vfs:
            for name in self.types:
                create = self._type_dir(vf, name) / 'create'
                uuid = create.read_text().strip()
                if not uuid:
                    continue
                create.write_text('')
                if (_UUID.match(uuid) and uuid not in self.mdevs
                        and self.available(vf, name) > 0):
                    self._create(vf, name, uuid)
        for vf in self.vfs:
            for name in self.types:
                _write_if_changed(
                    self._type_dir(vf, name) / 'available_instances',
                    str(self.available(vf, name)))

    def lose_all(self) -> None:
        for uuid in list(self.mdevs):
            self._remove(uuid)


def _write_if_changed(path: pathlib.Path, text: str) -> None:
    if path.read_text() != text + '\n':
        path.write_text(text + '\n')


class VgpuManager:
    """Plays the vGPU manager for ``gpus`` (PFs already added to ``tree``);
    a context manager that runs the polling thread."""

    def __init__(self, tree: sysfs_tree.SysfsTree,
                 gpus: list[sysfs_tree.PciFunction],
                 interval: float = 0.02) -> None:
        self.interval = interval
        self._gpus = [_VendorGpu(tree, pf) if pf.vfs[0].vgpu_types
                      else _MdevGpu(tree, pf) for pf in gpus]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='vgpu-manager')
        self.passes = 0

    def step(self) -> None:
        """One pass over every GPU's files."""
        with self._lock:
            for gpu in self._gpus:
                gpu.step()
            self.passes += 1

    def settle(self, timeout: float = 5.0) -> None:
        """Return once a whole pass ran after this call began."""
        deadline = time.monotonic() + timeout
        start = self.passes
        while self.passes < start + 2:
            if time.monotonic() > deadline:
                raise TimeoutError('the vGPU manager stand-in is not running')
            time.sleep(self.interval / 2)

    def lose_all(self) -> None:
        """The host rebooted: every vGPU and mdev is gone."""
        with self._lock:
            for gpu in self._gpus:
                gpu.lose_all()
        self.settle()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.step()
            except OSError:  # a test tore the tree down under us
                if not os.path.isdir(self._gpus[0].tree.root):
                    return
                raise

    def __enter__(self) -> 'VgpuManager':
        self.step()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
