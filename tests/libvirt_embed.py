"""A real libvirt QEMU driver inside the test process (``qemu:///embed``).

No libvirtd runs on test machines: the embedded driver keeps its state under one
directory. It needs an event loop registered in the process before the first
connection (QEMU's monitor is driven by it), and a ``qemu.conf`` that runs QEMU
as root without security driver, namespaces or cgroups, which containers and CI
machines do not offer. Guests are small TCG machines without disks, enough for
libvirt to define, start and edit them.

Used by the nova_ext tests and by the agent's reconciler tests, through the
``libvirt_embed`` fixture in tests/conftest.py.
"""
import pathlib
import threading
import uuid
import xml.etree.ElementTree as ET

import libvirt

QEMU_CONF = '''\
user = "root"
group = "root"
security_driver = "none"
namespaces = []
cgroup_controllers = []
remember_owner = 0
stdio_handler = "file"
'''

_loop_lock = threading.Lock()
_loop_thread: threading.Thread | None = None


def ensure_event_loop() -> None:
    """Register libvirt's default event loop once per process and run it.

    libvirt allows a single registration per process; Nova's ``Host`` does the
    same in ``initialize()``, so tests that use Nova's driver do not call that.
    """
    global _loop_thread
    with _loop_lock:
        if _loop_thread is not None:
            return
        # Errors arrive as exceptions; libvirt's default handler would also
        # print each one on stderr.
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
        libvirt.virEventRegisterDefaultImpl()
        _loop_thread = threading.Thread(
            target=_run_event_loop, name='libvirt-event-loop', daemon=True)
        _loop_thread.start()


def _run_event_loop() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


def guest_xml(name: str, instance_uuid: str, memory_mib: int = 32) -> str:
    """A minimal TCG guest: no disk, no network, no console."""
    domain = ET.Element('domain', type='qemu')
    ET.SubElement(domain, 'name').text = name
    ET.SubElement(domain, 'uuid').text = instance_uuid
    ET.SubElement(domain, 'memory', unit='MiB').text = str(memory_mib)
    ET.SubElement(domain, 'vcpu').text = '1'
    os_el = ET.SubElement(domain, 'os')
    ET.SubElement(os_el, 'type', arch='x86_64', machine='pc').text = 'hvm'
    devices = ET.SubElement(domain, 'devices')
    ET.SubElement(devices, 'emulator').text = '/usr/bin/qemu-system-x86_64'
    ET.SubElement(devices, 'memballoon', model='none')
    return ET.tostring(domain, encoding='unicode')


class EmbeddedLibvirt:
    """One embedded QEMU driver rooted at ``root``, with the guests it defined."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = pathlib.Path(root)
        self.uri = f'qemu:///embed?root={self.root}'
        self._conn: libvirt.virConnect | None = None

    def start(self) -> 'EmbeddedLibvirt':
        (self.root / 'etc').mkdir(parents=True, exist_ok=True)
        (self.root / 'etc' / 'qemu.conf').write_text(QEMU_CONF)
        ensure_event_loop()
        self._conn = libvirt.open(self.uri)
        return self

    @property
    def conn(self) -> libvirt.virConnect:
        if self._conn is None:
            raise RuntimeError('EmbeddedLibvirt.start() was not called')
        return self._conn

    def define_guest(self, name: str | None = None,
                     instance_uuid: str | None = None,
                     running: bool = False) -> libvirt.virDomain:
        """Define a persistent TCG guest, started when ``running``."""
        instance_uuid = instance_uuid or str(uuid.uuid4())
        name = name or f'instance-{instance_uuid[:8]}'
        domain = self.conn.defineXML(guest_xml(name, instance_uuid))
        if running:
            domain.create()
        return domain

    def wipe(self) -> None:
        """Stop and undefine every guest, so the next test starts empty."""
        for domain in self.conn.listAllDomains():
            if domain.isActive():
                domain.destroy()
            if domain.isPersistent():
                domain.undefine()

    def stop(self) -> None:
        if self._conn is not None:
            self.wipe()
            self._conn.close()
            self._conn = None
