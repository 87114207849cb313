"""LibvirtAcceleratorDriver: Nova's real libvirt driver on a real embedded QEMU,
asking a real ``cyborg-api`` (on the real Placement) which accelerators are
bound to an instance.

Nova cannot be imported here (see tests/nova_driver.py): it runs in a child
process, ``python -m`` this module, started once for the module. The cases
marked ``@case`` run in that child (attach and detach on libvirt); the binding
tests set up accelerators and attachments through the API's REST calls here
and ask the child for the guest XML Nova builds. Parent-only modules
(tools.harness.api_server, which loads cyborg_placement.conf) are imported
inside the fixtures, so that the child can import this module.
"""
import functools
import sys
import uuid

import pytest

from tests import nova_driver
from tools.harness.guest_xml import hostdev_sources

MODULE = 'tests.functional.test_virt_libvirt_driver'
VF = '0000:6b:01.0'
OTHER = '0000:6b:02.0'
CASES = {}


def case(function):
    CASES[function.__name__] = function
    return function


def raises_hostdev_error(call, kind: str):
    from nova_ext import accelerator
    try:
        call()
    except accelerator.HostdevError as ex:
        assert ex.kind == kind, (ex.kind, ex.reason)
        return ex
    raise AssertionError(f'no HostdevError({kind})')


# --- the child-side cases -------------------------------------------------

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
def detach_from_a_running_guest_without_the_unit_changes_nothing(world):
    instance = world.instance(running=True)
    assert not world.driver.detach_accelerator(world.context, instance,
                                               {'pci_address': VF})


@case
def novas_detach_takes_the_hostdev_the_plain_layer_finds(world):
    """The live leg of a detach is Nova's ``_detach_with_retry`` on the device
    ``libvirt_hostdev.find_hostdev`` gives. No live hostdev can exist here (no
    IOMMU), so it runs on a shut-off guest, where Nova takes the same device
    out of the persistent definition through the same glue."""
    from nova_ext import accelerator
    from nova_ext import libvirt_hostdev
    # A PCI function, and an mdev vGPU (Nova parses its hostdev as MDEV).
    for unit in ({'pci_address': VF},
                 {'pci_address': VF, 'vgpu_interface': 'mdev',
                  'mdev_uuid': 'c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e80'}):
        accel = accelerator.Accelerator.coerce(unit)
        instance = world.instance()
        libvirt_hostdev.attach(world.libvirt.conn, instance.uuid, accel)
        domain = world.libvirt.conn.lookupByUUIDString(instance.uuid)
        assert libvirt_hostdev.hostdev_addresses(domain, True) == {
            accel.device}
        world.driver._nova_detach(instance.uuid, domain, accel)
        assert libvirt_hostdev.hostdev_addresses(domain, True) == set()
        # Gone already: Nova's DeviceNotFound is "nothing to do", not an
        # error.
        world.driver._nova_detach(instance.uuid, domain, accel)


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


# --- the parent: one test per child case, and the binding tests -----------

@pytest.fixture(scope='module')
def api(placement_server, tmp_path_factory):
    """A ``cyborg-api`` of this module's own, so a test may stop it."""
    from tools.harness.api_server import ApiServer
    workdir = tmp_path_factory.mktemp('nova-ext-api')
    server = ApiServer.on_sqlite(workdir, placement_server.url, workers=1)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def nova(api, tmp_path_factory):
    child = nova_driver.NovaDriverProcess(
        MODULE, tmp_path_factory.mktemp('nova-ext'), api.url).start()
    yield child
    child.stop()


@pytest.mark.parametrize('name', list(CASES))
def test_nova_driver(nova, name):
    outcome = nova.run_case(name)
    if outcome is not None:
        pytest.fail(outcome, pytrace=False)


@pytest.fixture
def units(api, placement, unique_name) -> list[dict]:
    """Four GPUs of a host, in Placement and reported to the API."""
    from tools.harness.api_server import make_host
    # The driver binds (PUT /instances/{uuid}/bindings) on every guest build.
    if api.client().get(f'/instances/{uuid.uuid4()}/bindings'
                        ).status_code == 404:
        pytest.skip('the accelerator API answers 404 to GET '
                    '/instances/{uuid}/bindings: it has no binding endpoint '
                    'yet')
    made = make_host(placement, unique_name, units=4)
    reported = api.client(token='agent', roles='service').put(
        f'/hosts/{unique_name}/accelerators', json=made['report'])
    assert reported.status_code == 200
    return reported.json()['accelerators']


def bind(api, accelerator: dict, instance_uuid: str,
         state: str = 'attached') -> None:
    """Attach by REST as a user would, then report as the host's reconciler
    would, up to ``state``."""
    admin = api.client()
    service = api.client(token='agent', roles='service')
    attached = admin.put(f'/accelerators/{accelerator["uuid"]}',
                         json={'instance_uuid': instance_uuid})
    assert attached.status_code == 200, attached.text
    attachment = attached.json()['attachment']['uuid']

    def report(reached: str) -> None:
        done = service.put(f'/attachments/{attachment}/state',
                           json={'state': reached, 'reason': 'test'})
        assert done.status_code == 200, done.text

    if state == 'attach_failed':
        report('attach_failed')
        return
    report('attached')
    if state in ('detaching', 'detached'):
        assert admin.delete(
            f'/accelerators/{accelerator["uuid"]}').status_code == 204
    if state == 'detached':
        report('detached')


def built_xml(nova, instance_uuid: str, accel_info=None) -> str:
    built = nova.guest_xml(instance_uuid, accel_info)
    assert 'xml' in built, built
    return built['xml']


def test_guest_xml_has_the_bound_unit_on_every_build(api, nova, units):
    instance, other = str(uuid.uuid4()), str(uuid.uuid4())
    bind(api, units[0], instance)
    bind(api, units[1], other)

    xml = built_xml(nova, instance)

    assert hostdev_sources(xml) == [units[0]['pci_address']]
    assert '<hostdev mode="subsystem" type="pci" managed="yes">' in xml
    # Every rebuild of the XML (hard reboot, power on, rebuild) gets it again.
    assert hostdev_sources(built_xml(nova, instance)) == [
        units[0]['pci_address']]
    assert hostdev_sources(built_xml(nova, other)) == [
        units[1]['pci_address']]
    assert hostdev_sources(built_xml(nova, str(uuid.uuid4()))) == []


def test_released_bindings_are_left_out(api, nova, units):
    instance = str(uuid.uuid4())
    for unit, state in zip(units, ('attached', 'detaching', 'detached',
                                   'attach_failed'), strict=True):
        bind(api, unit, instance, state)
    listed = api.client().get('/accelerators', params={
        'instance_uuid': instance}).json()['accelerator']
    assert {a['pci_address'] for a in listed} >= {
        units[0]['pci_address'], units[1]['pci_address']}

    xml = built_xml(nova, instance)

    assert hostdev_sources(xml) == [units[0]['pci_address']]


def test_bindings_merge_with_novas_own_arqs(api, nova, units):
    instance = str(uuid.uuid4())
    bind(api, units[0], instance)
    bus, slot_function = units[0]['pci_address'].split(':')[1:]
    same_arq = {'attach_handle_type': 'PCI', 'attach_handle_info': {
        'domain': '0000', 'bus': bus, 'device': slot_function.split('.')[0],
        'function': slot_function.split('.')[1]}}
    other_arq = {'attach_handle_type': 'PCI', 'attach_handle_info': {
        'domain': '0000', 'bus': '6b', 'device': '02', 'function': '0'}}

    xml = built_xml(nova, instance, [same_arq, other_arq])

    assert hostdev_sources(xml) == sorted([units[0]['pci_address'], OTHER])


def test_api_down_fails_the_guest_build(api, nova, units):
    instance = str(uuid.uuid4())
    bind(api, units[0], instance)
    api.stop()
    try:
        failed = nova.guest_xml(instance)
    finally:
        api.start()
    assert failed.get('error') == 'AcceleratorRequestOpFailed', failed
    assert 'unreachable' in failed['message']
    # Back up: the same device again.
    assert hostdev_sources(built_xml(nova, instance)) == [
        units[0]['pci_address']]



def test_api_refusing_the_driver_fails_the_guest_build(api, nova, units,
                                                       keystone):
    """The API behind Keystone, nova.conf still with the noauth token: the
    API answers 401, and the build fails saying so."""
    instance = str(uuid.uuid4())
    bind(api, units[0], instance)
    api.stop()
    api.auth_strategy = 'keystone'
    api.sections = {'keystone_authtoken': keystone.authtoken_options()}
    try:
        api.start()
        failed = nova.guest_xml(instance)
    finally:
        api.stop()
        api.auth_strategy, api.sections = 'noauth', {}
        api.start()
    assert failed.get('error') == 'AcceleratorRequestOpFailed', failed
    assert 'answered 401' in failed['message']
    assert hostdev_sources(built_xml(nova, instance)) == [
        units[0]['pci_address']]

if __name__ == '__main__':
    nova_driver.serve(CASES, sys.argv[1:])
