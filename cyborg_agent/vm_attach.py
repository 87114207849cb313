"""VM attachments: a PCI hostdev in the instance's libvirt domain.

Through :mod:`nova_ext.libvirt_hostdev` (plain libvirt, by instance UUID),
so the agent needs no Nova code. The journal keeps which instance got which
unit until the detach is done, so a restarted agent can take back a device
the API no longer gives to the instance.

A vGPU unit's vGPU is made here, through the privileged daemon, before it
goes into the guest (its VF unmanaged, or its mdev), and deleted after it
left; the journal names it first, so a restarted agent that rolls the
attachment back deletes it too. Making one that is there does nothing, so
the check of an attached unit makes again a vGPU the host lost.

libvirt-python is the ``libvirt`` extra: it builds from source (a compiler
and libvirt's headers), and hosts that only do host attachments, like the
API server, do without it. So it is imported at the first VM attachment,
and its absence fails that attachment with a reason naming the extra.
"""
import os
import pathlib
import threading
import types
import typing

from cyborg_agent import vgpus
from cyborg_agent.attach_errors import AttachFailed
from cyborg_agent.attach_errors import NotSettled
from cyborg_agent.attach_errors import privileged_call
from cyborg_agent.journal import Journal
from cyborg_placement import crash_points
from nova_ext import accelerator

if typing.TYPE_CHECKING:
    import libvirt

LIBVIRT_MISSING = ("VM attachments need libvirt-python: "
                   "pip install 'cyborg-placement[libvirt]'")

_loop_lock = threading.Lock()
_loop_started = False


class LibvirtMissing(Exception):
    """libvirt-python is not installed in the agent's environment."""

    def __init__(self) -> None:
        super().__init__(LIBVIRT_MISSING)


def _libvirt() -> tuple[types.ModuleType, types.ModuleType]:
    """``libvirt`` and :mod:`nova_ext.libvirt_hostdev`, which imports it."""
    try:
        import libvirt

        from nova_ext import libvirt_hostdev
    except ModuleNotFoundError as exc:
        if exc.name != 'libvirt':
            raise
        raise LibvirtMissing() from None
    return libvirt, libvirt_hostdev


def _ensure_event_loop(libvirt: types.ModuleType) -> None:
    """libvirt's default event loop, once per process: the embedded QEMU
    driver needs it for its monitor, and keepalives use it elsewhere."""
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
        libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=_run_loop, args=(libvirt,),
                         name='libvirt-events', daemon=True).start()
        _loop_started = True


def _run_loop(libvirt: types.ModuleType) -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


def failure_reason(exc: accelerator.HostdevError, instance_uuid: str) -> str:
    """What the user reads in the attachment's ``reason``."""
    if exc.kind == accelerator.DOMAIN_NOT_FOUND:
        return (f'Instance {instance_uuid} is not on this host: libvirt has '
                'no domain with that UUID.')
    if exc.kind == accelerator.LIBVIRT_REFUSED:
        return f'libvirt refused the attach: {exc.reason}'
    return exc.reason


class VmAttacher:
    """Attaches units of this host to its libvirt guests."""

    def __init__(self, uri: str, sysfs_root: str | os.PathLike,
                 journal: Journal,
                 conn: 'libvirt.virConnect | None' = None,
                 entry_points='vgpu',
                 vgpu_changed: typing.Callable[[], None] | None = None
                 ) -> None:
        """``conn``: a connection the process already has (an embedded
        driver allows one per process); ``entry_points``: what makes and
        deletes vGPUs (the privileged daemon's); ``vgpu_changed``: called
        after one was made or deleted."""
        self.uri = uri
        self.devices = pathlib.Path(sysfs_root) / 'bus' / 'pci' / 'devices'
        self.journal = journal
        self._conn = conn
        self.entry_points = entry_points
        self.vgpu_changed = vgpu_changed or (lambda: None)

    def _connect(self, libvirt: types.ModuleType) -> 'libvirt.virConnect':
        """Opened on first use and again when it died: libvirtd restarts
        must not need an agent restart."""
        if self._conn is not None and self._conn.isAlive():
            return self._conn
        _ensure_event_loop(libvirt)
        try:
            self._conn = libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            raise NotSettled(f'libvirt at {self.uri} unreachable: '
                             f'{exc.get_error_message()}') from exc
        return self._conn

    def _unit(self, address: str, vgpu: vgpus.Vgpu | None) -> dict:
        device = self.devices / address
        if not device.exists():
            raise AttachFailed(f'PCI device {address} is gone from this host '
                               f'(no {device}).')
        try:
            physfn = os.path.basename(os.readlink(device / 'physfn'))
        except OSError:
            physfn = None
        return {'pci_address': address, 'physfn': physfn,
                **(vgpu.hostdev if vgpu else {})}

    def attach(self, uuid: str, instance_uuid: str, address: str,
               vgpu: vgpus.Vgpu | None = None) -> bool:
        """Put the unit into the guest (its vGPU made first); False when
        it was there already."""
        try:
            libvirt, libvirt_hostdev = _libvirt()
        except LibvirtMissing as exc:
            raise AttachFailed(LIBVIRT_MISSING) from exc
        unit = self._unit(address, vgpu)
        if self.journal.get(uuid) is None:
            self.journal.put(uuid, {'kind': 'vm', 'address': address,
                                    'instance_uuid': instance_uuid,
                                    **(vgpu.fields() if vgpu else {})})
        if vgpu and privileged_call(self.entry_points,
                                    *vgpus.make_call(vgpu, address)):
            self.vgpu_changed()
        try:
            return libvirt_hostdev.attach(self._connect(libvirt),
                                          instance_uuid, unit)
        except accelerator.HostdevError as exc:
            raise AttachFailed(failure_reason(exc, instance_uuid)) from exc

    def detach(self, uuid: str, instance_uuid: str, address: str,
               vgpu: vgpus.Vgpu | None = None) -> bool:
        """Take the unit out of the guest, then delete its vGPU; a guest
        that is gone holds none.

        Without libvirt-python nothing this agent attached can be in a
        guest unless the journal says so; only then is there work left.
        """
        try:
            libvirt, libvirt_hostdev = _libvirt()
        except LibvirtMissing as exc:
            if self.journal.get(uuid) is None:
                return False
            raise NotSettled(f'Detach of {address} from instance '
                             f'{instance_uuid}: {exc}') from exc
        unit = {'pci_address': address, **(vgpu.hostdev if vgpu else {})}
        try:
            changed = libvirt_hostdev.detach(self._connect(libvirt),
                                             instance_uuid, unit)
        except accelerator.HostdevError as exc:
            if exc.kind != accelerator.DOMAIN_NOT_FOUND:
                raise NotSettled(f'Detach of {address} from instance '
                                 f'{instance_uuid} failed: {exc}') from exc
            changed = False
        crash_points.reached('during_detach')
        if vgpu:
            try:
                deleted = privileged_call(self.entry_points,
                                          *vgpus.delete_call(vgpu, address))
            except AttachFailed as exc:
                raise NotSettled(f'Deleting the vGPU of {address} failed: '
                                 f'{exc.reason}') from exc
            if deleted:
                self.vgpu_changed()
        self.journal.remove(uuid)
        return changed
