"""VM attachments end to end, in the test process: REST attach through the
real API server and Placement, the reconciler on the real embedded libvirt
(``libvirt_embed``), and the user-visible reasons when it cannot attach."""
import pytest

from cyborg_agent.api_client import ApiUnreachable
from cyborg_agent.reconciler import Reconciler
from nova_ext.accelerator import PciAddress
from nova_ext.libvirt_hostdev import hostdev_addresses
from tools.harness import agent_host as support

GPU = support.GPUS[0]


@pytest.fixture
def host(placement, placement_server, api_server, tmp_path, unique_name):
    return support.make_agent_host(placement, tmp_path, unique_name,
                                   api_server.url, placement_server.url)


def _reconciler(host, conn) -> Reconciler:
    return support.vm_reconciler(host, conn)


def _pool_units(placement, instance, pool) -> int:
    held = placement.get(f'/allocations/{instance}')['allocations']
    return held.get(pool, {}).get('resources', {}).get('PGPU', 0)


def _attach(admin, host, instance):
    accel = support.accelerator(admin, host.name, GPU)
    answer = admin.put(f'/accelerators/{accel["uuid"]}',
                       json={'instance_uuid': instance})
    assert answer.status_code == 200, answer.text
    return accel


def _state(admin, accel):
    shown = admin.get(f'/accelerators/{accel["uuid"]}').json()['attachment']
    return shown['state'], shown['reason']


def test_attach_and_detach_a_shut_off_guest(admin, placement, host,
                                            libvirt_embed):
    instance = support.instance_on(placement, host.name)
    guest = libvirt_embed.define_guest(instance_uuid=instance)
    accel = _attach(admin, host, instance)
    pool = accel['pool_provider_uuid']
    reconciler = _reconciler(host, libvirt_embed.conn)

    reconciler.run_pass()
    assert _state(admin, accel) == ('attached', None)
    assert hostdev_addresses(guest, persistent=True) == {PciAddress.parse(GPU)}
    assert _pool_units(placement, instance, pool) == 1

    assert admin.delete(f'/accelerators/{accel["uuid"]}').status_code == 204
    reconciler.run_pass()  # only the change since the last pass
    assert _state(admin, accel)[0] == 'detached'
    assert hostdev_addresses(guest, persistent=True) == set()
    assert _pool_units(placement, instance, pool) == 0
    assert host.journal() == []


def test_instance_not_on_this_host(admin, placement, host, libvirt_embed):
    instance = support.instance_on(placement, host.name)  # but no domain here
    accel = _attach(admin, host, instance)
    _reconciler(host, libvirt_embed.conn).run_pass()
    state, reason = _state(admin, accel)
    assert state == 'attach_failed'
    assert reason == (f'On host {host.name}: Instance {instance} is not on '
                      'this host: libvirt has no domain with that UUID.')
    assert _pool_units(placement, instance, accel['pool_provider_uuid']) == 0
    assert host.journal() == []


def test_live_attach_refused_by_libvirt(admin, placement, host,
                                       libvirt_embed):
    instance = support.instance_on(placement, host.name)
    guest = libvirt_embed.define_guest(instance_uuid=instance, running=True)
    accel = _attach(admin, host, instance)
    _reconciler(host, libvirt_embed.conn).run_pass()
    state, reason = _state(admin, accel)
    assert state == 'attach_failed'
    assert 'libvirt refused the attach' in reason
    assert hostdev_addresses(guest, persistent=True) == set()
    assert _pool_units(placement, instance, accel['pool_provider_uuid']) == 0


@pytest.mark.parametrize('api_server', ['sqlite'], indirect=True)
def test_api_away_is_retried(admin, placement, host, api_server,
                             libvirt_embed):
    instance = support.instance_on(placement, host.name)
    guest = libvirt_embed.define_guest(instance_uuid=instance)
    accel = _attach(admin, host, instance)
    reconciler = _reconciler(host, libvirt_embed.conn)
    api_server.stop()
    try:
        with pytest.raises(ApiUnreachable):
            reconciler.run_pass()
        assert hostdev_addresses(guest, persistent=True) == set()
    finally:
        api_server.start()
    reconciler.run_pass()
    assert _state(admin, accel) == ('attached', None)
    assert hostdev_addresses(guest, persistent=True) == {PciAddress.parse(GPU)}
