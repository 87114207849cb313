"""Nova's libvirt driver with our extension, in a process of its own.

Nova registers ``[api]`` and ``[database]`` on oslo.config's global ``CONF``,
and so does cyborg_placement.conf (imported by tests/conftest.py): the two
cannot share an interpreter. So Nova runs in a child process that answers one
JSON request per line, while the test process keeps the real services
(Placement, ``cyborg-api``) and sets up, through their REST APIs, what the
driver should find. Requests:

- ``{"call": "case", "name": N}``: run the child-side case N against the
  driver and the embedded libvirt; answers ``{"traceback": None or text}``.
- ``{"call": "guest_xml", "instance_uuid": U, "accel_info": [...]}``: build
  the guest XML of instance U as spawn, hard reboot, power on and rebuild do;
  answers ``{"xml": text}`` or ``{"error": exception class, "message": text}``.

The child's nova.conf points ``[accelerator_api]`` at the API with
``auth_type = admin_token``, as a local noauth deployment would.
"""
import json
import os
import pathlib
import select
import subprocess
import sys
import traceback
import uuid

REPO = pathlib.Path(__file__).resolve().parents[1]


# --- the child: Nova, the driver, the embedded libvirt ---------------------

class World:
    """Nova configured as an operator would, through a nova.conf file."""

    def __init__(self, root: pathlib.Path, api_url: str) -> None:
        from tests.libvirt_embed import EmbeddedLibvirt
        self.libvirt = EmbeddedLibvirt(root / 'libvirt').start()
        conf_file = root / 'nova.conf'
        conf_file.write_text(
            f'[DEFAULT]\ninstances_path = {root / "instances"}\n'
            f'state_path = {root / "state"}\n'
            '[libvirt]\nvirt_type = qemu\n'
            f'connection_uri = {self.libvirt.uri}\n'
            '[accelerator_api]\nauth_type = admin_token\n'
            f'endpoint = {api_url}\ntoken = admin\n')
        from nova import context
        from nova import objects
        import nova.conf
        import nova.conf.neutron
        objects.register_all()
        nova.conf.CONF(['--config-file', str(conf_file)], project='nova',
                       default_config_files=[])
        nova.conf.neutron.register_dynamic_opts(nova.conf.CONF)
        from nova.virt import fake

        from nova_ext.virt.libvirt import LibvirtAcceleratorDriver
        self.driver = LibvirtAcceleratorDriver(fake.FakeVirtAPI(), False)
        self.context = context.get_admin_context()

    def instance(self, running: bool = False, define: bool = True,
                 instance_uuid: str | None = None):
        """A Nova Instance; ``define`` gives it a TCG guest of its UUID."""
        from nova import objects
        instance_uuid = instance_uuid or str(uuid.uuid4())
        if define:
            self.libvirt.define_guest(instance_uuid=instance_uuid,
                                      running=running)
        flavor = objects.Flavor(
            id=1, flavorid='1', name='tiny', memory_mb=64, vcpus=1,
            root_gb=0, ephemeral_gb=0, swap=0, vcpu_weight=None,
            rxtx_factor=1.0, extra_specs={})
        return objects.Instance(
            id=1, uuid=instance_uuid, display_name='vm', flavor=flavor,
            project_id='p', user_id='u', image_ref='', host='compute1',
            node='compute1', root_gb=0, ephemeral_gb=0, os_type='linux',
            system_metadata={}, metadata={}, vm_mode=None, kernel_id=None,
            ramdisk_id=None, config_drive='', numa_topology=None,
            vcpu_model=None, pci_devices=objects.PciDeviceList(),
            pci_requests=None, new_flavor=None, old_flavor=None,
            trusted_certs=None, resources=None, migration_context=None,
            ephemeral_key_uuid=None, task_state=None, vm_state=None,
            info_cache=None, cleaned=False, device_metadata=None,
            hidden=False)

    def guest_xml(self, instance, accel_info=None) -> str:
        """The XML spawn, hard reboot, power on and rebuild all build."""
        from nova import objects
        image_meta = objects.ImageMeta.from_dict({'disk_format': 'raw'})
        return self.driver._get_guest_xml(
            self.context, instance, [], {'mapping': {}}, image_meta,
            accel_info=accel_info)

    def definition(self, instance) -> str:
        import libvirt
        domain = self.libvirt.conn.lookupByUUIDString(instance.uuid)
        return domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def _answer(world: World, cases: dict, request: dict) -> dict:
    if request['call'] == 'case':
        world.libvirt.wipe()
        try:
            cases[request['name']](world)
        except Exception:
            return {'traceback': traceback.format_exc()}
        return {'traceback': None}
    if request['call'] == 'guest_xml':
        instance = world.instance(define=False,
                                  instance_uuid=request['instance_uuid'])
        try:
            return {'xml': world.guest_xml(instance, request['accel_info'])}
        except Exception as ex:
            return {'error': type(ex).__name__, 'message': str(ex)}
    return {'error': 'UnknownCall', 'message': request['call']}


def serve(cases: dict, argv: list[str]) -> None:
    """The child's main loop: ``argv`` is ``[root, api_url]``.

    Answers go to the original stdout; anything else Nova or libvirt print
    goes to stderr, so it cannot break a JSON line.
    """
    answers = os.fdopen(os.dup(sys.stdout.fileno()), 'w')
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    world = World(pathlib.Path(argv[0]), argv[1])
    try:
        answers.write(json.dumps({'ready': True}) + '\n')
        answers.flush()
        for line in sys.stdin:
            answers.write(json.dumps(
                _answer(world, cases, json.loads(line))) + '\n')
            answers.flush()
    finally:
        world.libvirt.stop()


# --- the parent: start the child, ask it things ----------------------------

class NovaDriverProcess:
    """``python -m <module> root api_url``, where ``module`` calls
    :func:`serve` with its cases."""

    def __init__(self, module: str, root: pathlib.Path, api_url: str) -> None:
        self.root = pathlib.Path(root)
        self.log_path = self.root / 'nova-child.log'
        self.argv = [sys.executable, '-m', module, str(self.root), api_url]
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> 'NovaDriverProcess':
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                self.argv, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                text=True)
        self._read(timeout)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def call(self, request: dict, timeout: float = 120.0) -> dict:
        self.process.stdin.write(json.dumps(request) + '\n')
        self.process.stdin.flush()
        return self._read(timeout)

    def run_case(self, name: str) -> str | None:
        """The case's traceback, or None when it passed."""
        return self.call({'call': 'case', 'name': name})['traceback']

    def guest_xml(self, instance_uuid: str,
                  accel_info: list[dict] | None = None) -> dict:
        """``{"xml": ...}`` or ``{"error": ..., "message": ...}``."""
        return self.call({'call': 'guest_xml', 'instance_uuid': instance_uuid,
                          'accel_info': accel_info})

    def _read(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ''
        if not line:
            raise RuntimeError(
                f'the Nova child process did not answer ({self.process.poll()}'
                f'); {self.log_path} ends with:\n'
                f'{self.log_path.read_text(errors="replace")[-4000:]}')
        return json.loads(line)
