"""LibvirtAcceleratorDriver: Nova's real libvirt driver on a real embedded QEMU.

Nova registers its options on oslo.config's global ``CONF``, where
cyborg_placement.conf (imported by tests/conftest.py) has already registered
its own ``[api]`` and ``[database]``; the two cannot share one process. So the
cases below run in a fresh interpreter (``python -m`` this module), once per
test session, and each case is reported as its own pytest test.

The accelerator API is not available to these tests yet: a tiny HTTP server
on loopback serves ``GET /accelerators?instance_uuid=`` in the API's documented
shape, standing in for it (real HTTP, real keystoneauth adapter from
``[accelerator_api]``). Switch ``BindingsStandIn`` for the API server when it
exists.
"""
import functools
import http.server
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import traceback
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
VF = '0000:6b:01.0'
OTHER = '0000:6b:02.0'
CASES = {}


def case(function):
    CASES[function.__name__] = function
    return function


# --- the stand-in for GET /accelerators?instance_uuid= ----------------------

class BindingsStandIn(http.server.ThreadingHTTPServer):
    """STAND-IN for the accelerator API's binding lookup (see module doc)."""

    def __init__(self) -> None:
        super().__init__(('127.0.0.1', 0), _BindingsHandler)
        self.records: list[dict] = []
        self.requests: list[str] = []
        self.fail_with: int | None = None
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.server_address[1]}'

    def bind(self, instance_uuid: str, pci_address: str,
             state: str = 'attached') -> None:
        self.records.append({
            'uuid': str(uuid.uuid4()), 'name': f'gpu-{pci_address}',
            'host': 'compute1', 'pci_address': pci_address,
            'acc_specs': {'device_type': 'GPU'}, 'state': 'available',
            'attachment': {'instance_uuid': instance_uuid, 'state': state}})


class _BindingsHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        url = urllib.parse.urlsplit(self.path)
        wanted = urllib.parse.parse_qs(url.query).get('instance_uuid', [''])[0]
        if self.server.fail_with or url.path != '/accelerators':
            self._answer(self.server.fail_with or 404, {'errors': []})
            return
        self._answer(200, {'accelerator': [
            r for r in self.server.records
            if r['attachment']['instance_uuid'] == wanted]})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        """Quiet: the requests are kept in ``server.requests``."""


# --- the child process: Nova, the driver, the embedded libvirt -------------

class World:
    """Nova configured as an operator would, through a nova.conf file."""

    def __init__(self, root: pathlib.Path) -> None:
        from tests.libvirt_embed import EmbeddedLibvirt
        self.libvirt = EmbeddedLibvirt(root / 'libvirt').start()
        self.api = BindingsStandIn()
        conf_file = root / 'nova.conf'
        conf_file.write_text(
            f'[DEFAULT]\ninstances_path = {root / "instances"}\n'
            f'state_path = {root / "state"}\n'
            '[libvirt]\nvirt_type = qemu\n'
            f'connection_uri = {self.libvirt.uri}\n'
            '[accelerator_api]\nauth_type = admin_token\n'
            f'endpoint = {self.api.url}\ntoken = admin\n')
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

    def instance(self, running: bool = False, define: bool = True):
        """A Nova Instance whose UUID names a defined TCG guest."""
        from nova import objects
        instance_uuid = str(uuid.uuid4())
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


def hostdev_sources(xml: str) -> list[str]:
    """PCI hostdev source addresses of a domain XML, as DDDD:BB:SS.F."""
    found = []
    for addr in ET.fromstring(xml).iterfind(
            "./devices/hostdev[@type='pci']/source/address"):
        parts = [int(addr.get(k), 16)
                 for k in ('domain', 'bus', 'slot', 'function')]
        found.append('{:04x}:{:02x}:{:02x}.{:x}'.format(*parts))
    return sorted(found)


def raises_hostdev_error(call, kind: str):
    from nova_ext import accelerator
    try:
        call()
    except accelerator.HostdevError as ex:
        assert ex.kind == kind, (ex.kind, ex.reason)
        return ex
    raise AssertionError(f'no HostdevError({kind})')


# --- the cases -------------------------------------------------------------

@case
def attach_and_detach_on_a_shut_off_guest(world):
    instance = world.instance()
    accel = {'pci_address': VF, 'uuid': str(uuid.uuid4())}

    assert world.driver.attach_accelerator(world.context, instance, accel)
    xml = world.definition(instance)
    assert hostdev_sources(xml) == [VF]
    assert "managed='yes'" in xml

    assert world.driver.detach_accelerator(world.context, instance, accel)
    assert hostdev_sources(world.definition(instance)) == []


@case
def attach_and_detach_are_idempotent(world):
    instance = world.instance()
    accel = {'pci_address': VF}
    assert world.driver.attach_accelerator(world.context, instance, accel)
    assert not world.driver.attach_accelerator(world.context, instance, accel)
    assert hostdev_sources(world.definition(instance)) == [VF]
    assert world.driver.detach_accelerator(world.context, instance, accel)
    assert not world.driver.detach_accelerator(world.context, instance, accel)
    assert hostdev_sources(world.definition(instance)) == []


@case
def live_attach_on_a_running_guest_fails_clearly(world):
    import libvirt

    from nova_ext import accelerator
    instance = world.instance(running=True)
    error = raises_hostdev_error(
        lambda: world.driver.attach_accelerator(
            world.context, instance, {'pci_address': VF}),
        accelerator.LIBVIRT_REFUSED)
    assert error.libvirt_code == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    assert 'passthrough' in error.reason
    assert hostdev_sources(world.definition(instance)) == []


@case
def instance_without_a_domain_is_domain_not_found(world):
    from nova_ext import accelerator
    instance = world.instance(define=False)
    for operation in (world.driver.attach_accelerator,
                      world.driver.detach_accelerator):
        error = raises_hostdev_error(
            functools.partial(operation, world.context, instance,
                              {'pci_address': VF}),
            accelerator.DOMAIN_NOT_FOUND)
        assert instance.uuid in error.reason


@case
def unit_held_by_another_guest_is_refused(world):
    from nova_ext import accelerator
    holder, other = world.instance(), world.instance()
    world.driver.attach_accelerator(world.context, holder,
                                    {'pci_address': VF})
    error = raises_hostdev_error(
        lambda: world.driver.attach_accelerator(
            world.context, other, {'pci_address': VF}),
        accelerator.DEVICE_IN_USE)
    assert holder.uuid in error.reason
    assert hostdev_sources(world.definition(other)) == []


@case
def driver_and_plain_layer_write_the_same_hostdev(world):
    from nova_ext import libvirt_hostdev
    by_driver, by_plain = world.instance(), world.instance()
    world.driver.attach_accelerator(world.context, by_driver,
                                    {'pci_address': VF})
    libvirt_hostdev.attach(world.libvirt.conn, by_plain.uuid,
                           {'pci_address': OTHER})
    # Each layer detaches what the other attached.
    assert libvirt_hostdev.detach(world.libvirt.conn, by_driver.uuid,
                                  {'pci_address': VF})
    assert world.driver.detach_accelerator(world.context, by_plain,
                                           {'pci_address': OTHER})
    assert hostdev_sources(world.definition(by_driver)) == []
    assert hostdev_sources(world.definition(by_plain)) == []


@case
def spawn_guest_config_includes_bound_accelerators(world):
    instance = world.instance(define=False)
    world.api.bind(instance.uuid, VF)
    world.api.bind(instance.uuid, OTHER, state='detaching')
    world.api.bind(str(uuid.uuid4()), '0000:6b:03.0')

    xml = world.guest_xml(instance)

    assert hostdev_sources(xml) == [VF]
    assert ('<hostdev mode="subsystem" type="pci" managed="yes">' in xml)
    assert (f'/accelerators?instance_uuid={instance.uuid}'
            in world.api.requests)
    # Every rebuild of the XML (reboot, power on, rebuild) gets the same unit.
    assert hostdev_sources(world.guest_xml(instance)) == [VF]


@case
def bindings_merge_with_novas_own_arqs(world):
    instance = world.instance(define=False)
    world.api.bind(instance.uuid, VF)
    nova_arq = {'attach_handle_type': 'PCI', 'attach_handle_info': {
        'domain': '0000', 'bus': '6b', 'device': '01', 'function': '0'}}
    other_arq = {'attach_handle_type': 'PCI', 'attach_handle_info': {
        'domain': '0000', 'bus': '6b', 'device': '02', 'function': '0'}}
    xml = world.guest_xml(instance, accel_info=[nova_arq, other_arq])
    assert hostdev_sources(xml) == [VF, OTHER]


@case
def unreachable_api_fails_the_guest_build(world):
    from nova import exception
    instance = world.instance(define=False)
    world.api.fail_with = 503
    try:
        world.guest_xml(instance)
    except exception.AcceleratorRequestOpFailed as ex:
        assert '503' in str(ex)
    else:
        raise AssertionError('the guest XML was built without the bindings')
    finally:
        world.api.fail_with = None


@case
def nova_loads_the_driver_by_its_documented_name(world):
    from nova.virt import driver as virt_driver
    from nova.virt import fake

    from nova_ext.cmd import compute
    from nova_ext.virt.libvirt import LibvirtAcceleratorDriver
    compute.install_driver_alias()
    loaded = virt_driver.load_compute_driver(fake.FakeVirtAPI(),
                                             compute.COMPUTE_DRIVER)
    assert isinstance(loaded, LibvirtAcceleratorDriver)


def run_cases(root: pathlib.Path) -> dict[str, str | None]:
    """Each case's traceback, or None when it passed."""
    world = World(root)
    outcomes = {}
    try:
        for name, function in CASES.items():
            world.libvirt.wipe()
            try:
                function(world)
                outcomes[name] = None
            except Exception:
                outcomes[name] = traceback.format_exc()
    finally:
        world.libvirt.stop()
        world.api.shutdown()
    return outcomes


# --- the parent: one pytest test per case ----------------------------------

@pytest.fixture(scope='module')
def outcomes(tmp_path_factory) -> dict[str, str | None]:
    root = tmp_path_factory.mktemp('nova-ext')
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.run(
        [sys.executable, '-m', 'tests.functional.test_nova_ext_driver',
         str(root)], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=600)
    lines = child.stdout.strip().splitlines()
    if child.returncode != 0 or not lines:
        pytest.fail(f'the Nova child process failed ({child.returncode}):\n'
                    f'{child.stderr[-4000:]}')
    return json.loads(lines[-1])


@pytest.mark.parametrize('name', list(CASES))
def test_nova_driver(outcomes, name):
    assert name in outcomes, f'case {name} did not run'
    if outcomes[name] is not None:
        pytest.fail(outcomes[name], pytrace=False)


if __name__ == '__main__':
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1
                        else tempfile.mkdtemp())
    print(json.dumps(run_cases(root)))
