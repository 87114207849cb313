"""Our Placement client against a real Placement server: nested providers,
custom resource classes, traits and inventories, and Placement's errors."""
import uuid

import pytest

from cyborg_placement.placement import client as placement_client
from tools.harness import ini


def _create_provider(placement, name, parent=None):
    body = {'name': name, 'uuid': str(uuid.uuid4())}
    if parent:
        body['parent_provider_uuid'] = parent
    return placement.post('/resource_providers', body)


def test_nested_provider_with_custom_class_traits_and_inventory(placement):
    root = _create_provider(placement, 'compute-1')
    child = _create_provider(placement, 'compute-1_GPU_10DE_2330',
                             parent=root['uuid'])
    placement.ensure_resource_class('CUSTOM_ACCEL_CRYPTO')
    traits = ['OWNER_CYBORG', 'CUSTOM_ACCEL_GPU', 'CUSTOM_ACCEL_VENDOR_10DE']
    placement.ensure_traits(traits)

    placement.put(f'/resource_providers/{child["uuid"]}/traits', {
        'resource_provider_generation': child['generation'],
        'traits': traits})
    inventory = placement.put(
        f'/resource_providers/{child["uuid"]}/inventories', {
            'resource_provider_generation': child['generation'] + 1,
            'inventories': {
                'PGPU': {'total': 8, 'max_unit': 8},
                'CUSTOM_ACCEL_CRYPTO': {'total': 2, 'reserved': 1}}})

    assert inventory['inventories']['PGPU']['total'] == 8
    tree = placement.providers_in_tree(root['uuid'])
    assert {p['name'] for p in tree} == {'compute-1', 'compute-1_GPU_10DE_2330'}
    nested = next(p for p in tree if p['uuid'] == child['uuid'])
    assert nested['parent_provider_uuid'] == root['uuid']
    assert nested['root_provider_uuid'] == root['uuid']
    shown = placement.get(f'/resource_providers/{child["uuid"]}/traits')
    assert sorted(shown['traits']) == sorted(traits)
    assert placement.get_provider_by_name('compute-1')['uuid'] == root['uuid']
    assert placement.get_provider_by_name('no-such-host') is None


def test_ensure_is_idempotent_and_skips_standard_names(placement):
    name = f'CUSTOM_T{uuid.uuid4().hex.upper()}'
    placement.ensure_resource_class(name)
    placement.ensure_resource_class(name)
    # One PUT per custom class and call.
    assert dict(placement.counts) == {'PUT': 2}
    placement.counts.clear()
    placement.ensure_traits(['OWNER_CYBORG', name, name])
    placement.ensure_traits([name, 'OWNER_CYBORG'])
    # One read of the custom traits per call, a PUT only where one is
    # missing; the standard trait is never asked for nor sent.
    assert dict(placement.counts) == {'GET': 2, 'PUT': 1}
    placement.counts.clear()
    placement.ensure_traits(['OWNER_CYBORG', 'HW_CPU_X86_AVX2'])
    assert placement.counts == {}
    classes = placement.get('/resource_classes')['resource_classes']
    assert name in {c['name'] for c in classes}
    assert placement.get('/traits', params={'name': f'in:{name}'}) == {
        'traits': [name]}


def test_generation_conflict_is_a_typed_error(placement):
    provider = _create_provider(placement, 'compute-2')
    placement.ensure_traits(['CUSTOM_ACCEL_GPU'])
    with pytest.raises(placement_client.Conflict) as raised:
        placement.put(f'/resource_providers/{provider["uuid"]}/traits', {
            'resource_provider_generation': provider['generation'] + 5,
            'traits': ['CUSTOM_ACCEL_GPU']})
    assert raised.value.is_generation_conflict
    assert raised.value.status == 409


def test_not_found_and_request_counts(placement):
    with pytest.raises(placement_client.NotFound):
        placement.get(f'/resource_providers/{uuid.uuid4()}')
    assert placement.counts['GET'] == 1
    assert placement.writes == 0


def test_unreachable_placement_is_reported(tmp_path):
    from tests.conftest import make_conf
    from tools.harness.server_process import free_port
    conf = make_conf(tmp_path, {'placement': ini.token_auth(
        f'http://127.0.0.1:{free_port()}')})
    client = placement_client.PlacementClient.from_conf(conf)
    with pytest.raises(placement_client.PlacementUnreachable):
        client.get('/resource_providers')


def test_missing_auth_options_are_reported(tmp_path):
    """No ``auth_type`` in [placement]: a typed error naming the group, not
    keystoneauth's MissingAuthPlugin escaping to the caller."""
    from tests.conftest import make_conf
    client = placement_client.PlacementClient.from_conf(make_conf(tmp_path, {}))
    with pytest.raises(placement_client.PlacementUnreachable) as raised:
        client.get('/resource_providers')
    assert '[placement] auth' in str(raised.value)
