"""Placement going away in the middle of a cycle: the cycle fails with a
retryable error, and the next cycle after Placement returns converges without
duplicate providers. Uses its own Placement server, stopped and restarted."""
import pytest

from cyborg_agent.publish import sync as placement_sync
from cyborg_placement.placement import client as placement_client
from tests.conftest import make_conf
from tests.functional.compute_nodes import BeforeWrite
from tests.functional.compute_nodes import children
from tests.functional.compute_nodes import create_compute_node
from tests.functional.compute_nodes import units_from
from tools.harness import catalog
from tools.harness import ini
from tools.harness.local_placement import LocalPlacement


@pytest.fixture
def own_placement(tmp_path):
    server = LocalPlacement(tmp_path / 'placement', forked=True)
    server.start()
    yield server
    server.stop()


def _client(server, tmp_path):
    conf = make_conf(tmp_path, {'placement': ini.token_auth(server.url)})
    return placement_client.PlacementClient.from_conf(conf)


@pytest.mark.parametrize('write', ['/traits', '/inventories'])
def test_placement_stopped_mid_cycle_then_back(own_placement, tmp_path,
                                               write):
    client = _client(own_placement, tmp_path)
    node = create_compute_node(client, 'compute-outage')
    units = units_from(tmp_path, catalog.gpu_server())
    # Placement dies right after the first pool provider was created.
    flaky = BeforeWrite(client, write, own_placement.stop, armed=True)
    agent = placement_sync.ProviderSync(flaky, 'compute-outage')

    with pytest.raises(placement_client.PlacementUnreachable):
        agent.sync(units)
    with pytest.raises(placement_client.PlacementUnreachable):
        agent.sync(units)

    own_placement.start()
    agent.sync(units)

    tree = children(client, node)
    assert sorted(tree) == ['compute-outage_CRYPTO_8086_4941',
                            'compute-outage_GPU_10DE_2330']
    totals = sorted(next(iter(p['inventories'].values()))['total']
                    for p in tree.values())
    assert totals == [8, 32]
    assert all('OWNER_CYBORG' in p['traits'] for p in tree.values())
    every = client.get('/resource_providers')['resource_providers']
    assert len(every) == 3
    client.counts.clear()
    agent.sync(units)
    assert client.writes == 0


def test_a_new_process_adopts_a_half_created_provider(own_placement,
                                                      tmp_path):
    client = _client(own_placement, tmp_path)
    node = create_compute_node(client, 'compute-crash')
    units = units_from(tmp_path, catalog.gpu_server(qat_pfs=0))
    flaky = BeforeWrite(client, '/traits', own_placement.stop, armed=True)
    with pytest.raises(placement_client.PlacementUnreachable):
        placement_sync.ProviderSync(flaky, 'compute-crash').sync(units)
    own_placement.start()

    # The agent restarts: a fresh process, nothing in memory.
    placement_sync.ProviderSync(client, 'compute-crash').sync(units)

    (gpus,) = children(client, node).values()
    assert gpus['inventories']['PGPU']['total'] == 8
    assert 'OWNER_CYBORG' in gpus['traits']
