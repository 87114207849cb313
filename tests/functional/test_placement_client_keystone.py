"""The Placement client with ``auth_type = password``: a real Keystone issues the
token and its catalog gives Placement's endpoint; Placement validates the token
with keystonemiddleware, as in a real cloud."""
import uuid

import pytest

from cyborg_placement.placement.client import PlacementClient
from tests.conftest import make_conf
from tools.harness.local_placement import LocalPlacement


@pytest.fixture(scope='module')
def keystone_placement(keystone, tmp_path_factory):
    server = LocalPlacement(tmp_path_factory.mktemp('placement-ks'),
                            keystone_authtoken=keystone.authtoken_options(),
                            forked=True)
    server.start()
    service = keystone.register_service('placement', server.url)
    yield server
    keystone.remove_service(service)
    server.stop()


def test_password_auth_finds_placement_in_the_catalog(
        keystone, keystone_placement, tmp_path):
    conf = make_conf(tmp_path, {'placement': keystone.password_options()})
    client = PlacementClient.from_conf(conf)
    root = client.post('/resource_providers',
                       {'name': 'ks-compute', 'uuid': str(uuid.uuid4())})
    client.post('/resource_providers', {
        'name': 'ks-compute_GPU_10DE_2330', 'uuid': str(uuid.uuid4()),
        'parent_provider_uuid': root['uuid']})
    tree = client.providers_in_tree(root['uuid'])
    assert sorted(p['name'] for p in tree) == [
        'ks-compute', 'ks-compute_GPU_10DE_2330']
    assert client.adapter.get_endpoint().rstrip('/') == keystone_placement.url


def test_placement_refuses_a_request_without_a_valid_token(
        keystone_placement):
    import requests
    answer = requests.get(keystone_placement.url + '/resource_providers',
                          headers={'X-Auth-Token': 'admin'})
    assert answer.status_code == 401
