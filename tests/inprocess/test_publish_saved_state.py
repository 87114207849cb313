"""A restarted agent starts from what it saved in ``[agent] state_dir``: one
listing of the host's tree while the generations match, a read of only the
providers whose generation moved, and a fall back to reading everything when
the saved file cannot be used. Each "restart" is a new ProviderSync on a new
StateFile, as a new process makes them, against a real Placement."""
import json
import logging

import pytest

from cyborg_agent import saved_state
from cyborg_agent.publish import pools
from cyborg_agent.publish import sync as placement_sync
from tests.functional.compute_nodes import children
from tests.functional.compute_nodes import create_compute_node
from tests.functional.compute_nodes import units_from
from tests.inprocess.test_publish_sync import _allocate
from tests.inprocess.test_publish_sync import _set_traits
from tests.inprocess.test_publish_sync import GPU_POOL
from tools.harness import catalog

#: A fresh process that did not save: root by name, the tree, then traits
#: and inventories of each of the two pools.
READ_EVERYTHING = 2 + 2 * 2


@pytest.fixture
def host(placement, unique_name, tmp_path):
    create_compute_node(placement, unique_name)
    units = units_from(tmp_path, catalog.gpu_server())
    placement.counts.clear()
    return unique_name, units


def _restart(placement, name, state_dir) -> placement_sync.ProviderSync:
    saved = saved_state.StateFile(state_dir,
                                  saved_state.file_name('placement', name))
    return placement_sync.ProviderSync(placement, name, saved=saved)


def _published_once(placement, host, tmp_path):
    name, units = host
    _restart(placement, name, tmp_path / 'state').sync(units)
    placement.counts.clear()


def test_restart_of_an_unchanged_host_costs_one_listing(
        placement, host, tmp_path):
    name, units = host
    _published_once(placement, host, tmp_path)

    _restart(placement, name, tmp_path / 'state').sync(units)
    assert dict(placement.counts) == {'GET': 1}

    # Without a saved state the same restart reads every provider.
    placement.counts.clear()
    placement_sync.ProviderSync(placement, name).sync(units)
    assert dict(placement.counts) == {'GET': READ_EVERYTHING}


def test_an_allocation_since_makes_only_that_pool_read_again(
        placement, host, tmp_path):
    name, units = host
    _published_once(placement, host, tmp_path)
    _allocate(placement, pools.provider_uuid(name + GPU_POOL), 'PGPU', 1)
    placement.counts.clear()

    agent = _restart(placement, name, tmp_path / 'state')
    agent.sync(units)
    # The listing, then traits and inventories of the GPU pool only.
    assert dict(placement.counts) == {'GET': 3}

    # What was read is saved: the next restart is one listing again.
    placement.counts.clear()
    _restart(placement, name, tmp_path / 'state').sync(units)
    assert dict(placement.counts) == {'GET': 1}


def test_an_outside_trait_change_is_read_and_kept_or_undone(
        placement, host, tmp_path):
    name, units = host
    _published_once(placement, host, tmp_path)
    pool = pools.provider_uuid(name + GPU_POOL)
    placement.ensure_traits(['CUSTOM_RACK_A'])
    _set_traits(placement, pool, lambda traits: traits + ['CUSTOM_RACK_A'])
    placement.counts.clear()

    _restart(placement, name, tmp_path / 'state').sync(units)
    assert dict(placement.counts) == {'GET': 3}
    assert 'CUSTOM_RACK_A' in _pool_traits(placement, name)

    # One of ours taken off while the agent was down: put back on restart.
    _set_traits(placement, pool, lambda traits: [
        t for t in traits if t != 'CUSTOM_ACCEL_GPU'])
    placement.counts.clear()
    _restart(placement, name, tmp_path / 'state').sync(units)
    # The listing and the pool; the pool's traits (the trait exists).
    assert dict(placement.counts) == {'GET': 3, 'PUT': 1}
    assert {'CUSTOM_ACCEL_GPU', 'CUSTOM_RACK_A'} <= _pool_traits(
        placement, name)


def _pool_traits(placement, name) -> set[str]:
    root = placement.get_provider_by_name(name)['uuid']
    return children(placement, root)[name + GPU_POOL]['traits']


@pytest.mark.parametrize('content', [
    '{"format": 1, "root_na',                      # cut short by a full disk
    '[]',
    '{"format": 99}',
    '{"format": 1, "root_name": "another-host", "root_uuid": "x", '
    '"providers": {}}',
    '{"format": 1, "root_name": "%s", "root_uuid": "x", '
    '"providers": {"p": {"name": 3}}}',
])
def test_an_unusable_saved_file_is_reported_and_everything_read(
        placement, host, tmp_path, caplog, content):
    name, units = host
    _published_once(placement, host, tmp_path)
    saved = tmp_path / 'state' / 'published' / f'placement-{name}.json'
    assert saved.exists()
    saved.write_text(content.replace('%s', name))

    caplog.set_level(logging.WARNING)
    _restart(placement, name, tmp_path / 'state').sync(units)

    assert f'Ignoring saved state {saved}' in caplog.text
    assert dict(placement.counts) == {'GET': READ_EVERYTHING}
    # Saved again, whole: the next restart trusts it.
    assert json.loads(saved.read_text())['root_name'] == name
    placement.counts.clear()
    _restart(placement, name, tmp_path / 'state').sync(units)
    assert dict(placement.counts) == {'GET': 1}


def test_a_pool_deleted_while_the_agent_was_down_is_made_again(
        placement, host, tmp_path):
    name, units = host
    _published_once(placement, host, tmp_path)
    placement.delete(f'/resource_providers/{pools.provider_uuid(name + GPU_POOL)}')

    _restart(placement, name, tmp_path / 'state').sync(units)

    assert children(placement, placement.get_provider_by_name(name)['uuid'])[
        name + GPU_POOL]['inventories']['PGPU']['total'] == 8


def test_a_compute_node_made_again_is_looked_up_by_name(
        placement, host, tmp_path, caplog):
    """Nova's provider deleted and created again (a new uuid): the saved
    root is not trusted, the host is published under the new one."""
    name, units = host
    _published_once(placement, host, tmp_path)
    root = placement.get_provider_by_name(name)['uuid']
    for provider in placement.providers_in_tree(root)[::-1]:
        placement.delete(f'/resource_providers/{provider["uuid"]}')
    node = create_compute_node(placement, name)

    caplog.set_level(logging.WARNING)
    _restart(placement, name, tmp_path / 'state').sync(units)

    assert 'is gone; looking it up again' in caplog.text
    assert len(children(placement, node)) == 2


def test_an_unwritable_state_dir_is_reported_and_publication_goes_on(
        placement, host, tmp_path, caplog):
    name, units = host
    (tmp_path / 'a-file').write_text('')
    caplog.set_level(logging.WARNING)

    _restart(placement, name, tmp_path / 'a-file' / 'state').sync(units)

    assert 'Could not save state to' in caplog.text
    assert len(children(placement,
                        placement.get_provider_by_name(name)['uuid'])) == 2
