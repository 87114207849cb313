"""An agent installed without the ``libvirt`` extra: the real
``cyborg-agent --once`` against the real API and Placement, in a process
where ``import libvirt`` fails as it does where libvirt-python is not
installed (a ``sitecustomize`` on its PYTHONPATH blocks the module).

A VM attachment fails with a reason naming the extra, and the agent goes on:
host attachments work, and so does a VM attachment detached before the agent
could act on it.
"""
import os

import pytest

from cyborg_agent.vm_attach import LIBVIRT_MISSING
from tools.harness import agent_host as support

VM_GPU, HOST_GPU = support.GPUS

SITECUSTOMIZE = '''\
import sys

# What a host without libvirt-python shows: import libvirt fails.
sys.modules['libvirt'] = None
'''


@pytest.fixture
def host(placement, placement_server, api_server, tmp_path, unique_name):
    blocker = tmp_path / 'no-libvirt'
    blocker.mkdir()
    (blocker / 'sitecustomize.py').write_text(SITECUSTOMIZE)
    pythonpath = os.pathsep.join(
        filter(None, [str(blocker), os.environ.get('PYTHONPATH')]))
    return support.make_agent_host(placement, tmp_path, unique_name,
                                   api_server.url, placement_server.url,
                                   env={'PYTHONPATH': pythonpath})


def _attachment(admin, accel) -> dict:
    return admin.get(f'/accelerators/{accel["uuid"]}').json()['attachment']


def test_vm_attach_names_the_extra_and_host_attach_works(admin, placement,
                                                         host):
    instance = support.instance_on(placement, host.name)
    to_vm = support.accelerator(admin, host.name, VM_GPU)
    to_host = support.accelerator(admin, host.name, HOST_GPU)
    assert admin.put(f'/accelerators/{to_vm["uuid"]}', json={
        'instance_uuid': instance}).status_code == 200
    assert admin.put(f'/accelerators/{to_host["uuid"]}', json={
        'host': host.name}).status_code == 200

    done = host.settle()

    vm = _attachment(admin, to_vm)
    assert vm['state'] == 'attach_failed'
    assert vm['reason'] == f'On host {host.name}: {LIBVIRT_MISSING}'
    assert LIBVIRT_MISSING == ("VM attachments need libvirt-python: "
                               "pip install 'cyborg-placement[libvirt]'")
    # One line in the agent's log, no traceback.
    assert done.stderr.count(LIBVIRT_MISSING) == 1, done.stderr
    assert 'Traceback' not in done.stderr
    # The claim is released: the instance holds no unit of the pool.
    held = placement.get(f'/allocations/{instance}')['allocations']
    assert to_vm['pool_provider_uuid'] not in held

    assert _attachment(admin, to_host)['state'] == 'attached'
    assert host.read(HOST_GPU, 'driver_override') == 'vfio-pci'
    assert host.read(VM_GPU, 'driver_override') == '(null)\n'
    assert host.journal() == [_attachment(admin, to_host)['uuid']]


def test_vm_attachment_detached_before_the_agent_acted(admin, placement,
                                                       host):
    instance = support.instance_on(placement, host.name)
    accel = support.accelerator(admin, host.name, VM_GPU)
    assert admin.put(f'/accelerators/{accel["uuid"]}', json={
        'instance_uuid': instance}).status_code == 200
    assert admin.delete(f'/accelerators/{accel["uuid"]}').status_code == 204
    assert _attachment(admin, accel)['state'] == 'detaching'

    host.settle()

    # Nothing of it can be in a guest: this agent never had libvirt.
    assert _attachment(admin, accel)['state'] == 'detached'
    assert support.pool_usage(placement, accel['pool_provider_uuid']) == 0
    assert host.journal() == []
