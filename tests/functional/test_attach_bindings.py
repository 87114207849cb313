"""Instance bindings through real HTTP and the real Placement: a server Nova
scheduled onto an accelerator pool gets that many concrete units."""
import uuid

from tests.functional import cli_runner


def test_nova_scheduled_units_are_bound_and_released(
        api_server, admin, placement, tmp_path, unique_name):
    """Nova's allocation (compute-node resources and pool units, one PUT)
    is the claim: the binding names which units, and writes nothing to
    Placement."""
    nova = api_server.client(token='nova', roles='service',
                             project_id='service')
    gpus = cli_runner.publish_gpus(placement, nova, tmp_path, unique_name)
    root = placement.get_provider_by_name(unique_name)
    pool = gpus[0]['pool_provider_uuid']
    instance = str(uuid.uuid4())
    placement.put(f'/allocations/{instance}', {
        'allocations': {
            root['uuid']: {'resources': {'VCPU': 2, 'MEMORY_MB': 2048,
                                         'DISK_GB': 10}},
            pool: {'resources': {gpus[0]['resource_class']: 2}}},
        'consumer_generation': None, 'project_id': 'p1', 'user_id': 'u1',
        'consumer_type': 'INSTANCE'}, microversion='1.38')
    before = placement.get(f'/allocations/{instance}', microversion='1.38')
    path = f'/instances/{instance}/bindings'

    bound = nova.put(path, json={'host': unique_name})

    assert bound.status_code == 200, bound.text
    shown = bound.json()['bindings']
    assert sorted(a['uuid'] for a in shown) == sorted(a['uuid'] for a in gpus)
    assert {(a['attachment']['state'], a['attachment']['claim'])
            for a in shown} == {('attached', 'existing_allocation')}
    assert nova.put(path, json={'host': unique_name}).json() == bound.json()
    assert placement.get(f'/allocations/{instance}',
                         microversion='1.38') == before
    listed = admin.get('/accelerators', params={'instance_uuid': instance})
    assert len(listed.json()['accelerator']) == 2
    feed = nova.get(f'/hosts/{unique_name}/attachments',
                    params={'changes_since': 0})
    assert feed.json()['attachments'] == []  # Nova's driver attaches these

    assert nova.delete(path, params={'host': unique_name}).status_code == 204
    assert admin.get(path).json() == {'bindings': []}
    assert placement.get(f'/allocations/{instance}',
                         microversion='1.38') == before
