"""A pool provider Placement no longer has, under a host with bindings and
attachments, through a real ``cyborg-api`` and the real Placement.

Placement loses a pool when an operator deletes the provider, when its
database is restored from a backup, or when a device report named a pool
that is gone. Until the host's agent publishes it again, nothing is held
there: binds, feeds and detaches go on as for an empty pool, and a call
that asks for a unit of it is refused with 409 naming the pool, never 500.
"""
import uuid

from tests.inprocess import scenario
from tools.harness.api_server import make_host

GONE = 'accelerator.pool.not_in_placement'


def _forget_pool(placement, pool: str) -> None:
    """What Placement shows after the provider went: no allocations there
    (they are taken off each consumer first, as Placement demands), no
    provider."""
    found = placement.get(f'/resource_providers/{pool}/allocations')
    for consumer in found['allocations']:
        held = placement.get(f'/allocations/{consumer}', microversion='1.38')
        rest = {rp: a for rp, a in held['allocations'].items() if rp != pool}
        scenario.allocate(placement, consumer, rest,
                          project=held['project_id'],
                          consumer_type=held['consumer_type'])
    placement.delete(f'/resource_providers/{pool}')


def _error(answer) -> tuple[int, str, str]:
    error = answer.json()['errors'][0]
    return answer.status_code, error['code'], error['detail']


def test_a_pool_placement_lost_holds_nothing_and_is_never_a_500(
        api_server, placement, unique_name):
    host = scenario.gpu_and_fpga_host(placement, unique_name, gpus=3)
    service = api_server.client(token='agent', roles='service')
    admin = api_server.client()
    answer = service.put(f'/hosts/{unique_name}/accelerators',
                         json=host['report'])
    assert answer.status_code == 200, answer.text
    units = {a['pci_address']: a['uuid']
             for a in answer.json()['accelerators']}
    gpus = [units[f'0000:3b:00.{n}'] for n in range(3)]
    both = scenario.schedule_gpu_and_fpga(placement, host)
    gpu_only = scenario.schedule(placement, host, 1)
    for instance in (both, gpu_only):
        bound = service.put(f'/instances/{instance}/bindings',
                            json={'host': unique_name})
        assert bound.status_code == 200, bound.text
    held = {a['uuid'] for a in admin.get(
        '/accelerators', params={'host': unique_name}).json()['accelerator']
        if a['attachment'] and a['attachment']['holds_accelerator']}
    free_gpu, = set(gpus) - held
    # ... and the host attach of the last GPU, which the host reports done.
    attached = admin.put(f'/accelerators/{free_gpu}',
                         json={'host': unique_name})
    assert attached.status_code == 200, attached.text
    attachment = attached.json()['attachment']
    assert service.put(f'/attachments/{attachment["uuid"]}/state',
                       json={'state': 'attached'}).status_code == 200

    _forget_pool(placement, host['pool'])

    # A bind follows the allocation: the FPGA stays, the GPU goes.
    again = service.put(f'/instances/{both}/bindings',
                        json={'host': unique_name})
    assert again.status_code == 200, again.text
    assert [a['pci_address'] for a in again.json()['bindings']] == [
        '0000:5e:00.0']
    # The feed releases the binding no allocation explains any more, and
    # still lists the host attachment for its reconciler.
    feed = service.get(f'/hosts/{unique_name}/attachments')
    assert feed.status_code == 200, feed.text
    assert [a['uuid'] for a in feed.json()['attachments']] == [
        attachment['uuid']]
    assert admin.get(f'/instances/{gpu_only}/bindings').json() == {
        'bindings': []}
    # Asking a unit of the pool: 409 naming it, for a host or an instance.
    for body in ({'host': unique_name}, {'instance_uuid': gpu_only},
                 {'instance_uuid': str(uuid.uuid4())}):
        refused = admin.put(f'/accelerators/{gpus[0]}', json=body)
        status, code, detail = _error(refused)
        assert (status, code) == (409, GONE), refused.text
        assert host['pool'] in detail
    # Detach and its report release a claim that is no longer there.
    assert admin.delete(f'/accelerators/{free_gpu}').status_code == 204
    done = service.put(f'/attachments/{attachment["uuid"]}/state',
                       json={'state': 'detached'})
    assert done.status_code == 200, done.text
    assert done.json()['state'] == 'detached'
    assert service.get(f'/hosts/{unique_name}/attachments').status_code == 200


def test_an_accelerator_request_for_a_pool_placement_lost_is_409(
        api_server, placement, unique_name):
    host = make_host(placement, unique_name, units=1)
    service = api_server.client(token='agent', roles='service')
    assert service.put(f'/hosts/{unique_name}/accelerators',
                       json=host['report']).status_code == 200
    v2 = api_server.client(version='accelerator 2.3')
    assert v2.post('/v2/device_profiles', json=[{
        'name': unique_name, 'groups': [{'resources:PGPU': '1'}]}]
    ).status_code == 201
    arq, = v2.post('/v2/accelerator_requests', json={
        'device_profile_name': unique_name}).json()['arqs']
    instance = scenario.instance(placement, host['root'])
    placement.delete(f'/resource_providers/{host["pool"]}')

    refused = v2.patch('/v2/accelerator_requests', json={arq['uuid']: [
        {'path': '/hostname', 'op': 'add', 'value': unique_name},
        {'path': '/device_rp_uuid', 'op': 'add', 'value': host['pool']},
        {'path': '/instance_uuid', 'op': 'add', 'value': instance}]})

    status, code, detail = _error(refused)
    assert (status, code) == (409, GONE), refused.text
    assert host['pool'] in detail
    assert v2.get(f'/v2/accelerator_requests/{arq["uuid"]}').json()[
        'state'] == 'Initial'
