"""The sync's decisions: which traits to keep, what inventory never loses
an allocation, which providers the agent may touch."""
import dataclasses

from cyborg_agent.publish import pools
from cyborg_agent.publish import state
from cyborg_agent.publish import tree
from cyborg_placement.vocabulary import Unit

GPUS = [Unit(f'0000:{0x18 + i:02x}:00.0', '10de', '2330', 'GPU')
        for i in range(4)]


def _pool(units):
    (provider,) = tree.build('compute-1', 'root-uuid', units).values()
    return provider


def _known(total, rc='PGPU', generation=3):
    pool = _pool(GPUS)
    return state.KnownProvider(
        pool.uuid, pool.name, 'root-uuid', generation, pool.traits,
        {rc: tree.inventory(total, 0)} if total else {}, owned=True)


def test_operator_traits_are_kept_and_stale_agent_traits_removed():
    current = frozenset({'OWNER_CYBORG', 'CUSTOM_ACCEL_GPU',
                         'CUSTOM_ACCEL_PRODUCT_10DE_1EB8', 'CUSTOM_RACK_A',
                         'CUSTOM_OLD_RULE'})
    desired = frozenset({'OWNER_CYBORG', 'CUSTOM_ACCEL_GPU',
                         'CUSTOM_ACCEL_PRODUCT_10DE_2330'})
    wanted = state.wanted_traits(current, desired,
                                 frozenset({'CUSTOM_OLD_RULE'}))
    assert wanted == desired | {'CUSTOM_RACK_A'}


def test_inventory_never_drops_below_allocations():
    known = _known(4)
    fewer = _pool(GPUS[:1])
    assert state.needs_usages(known, fewer)
    wanted = state.wanted_inventories(known, fewer, {'PGPU': 3})
    assert wanted == {'PGPU': tree.inventory(3, 2)}
    assert state.retained(wanted, fewer) == 2
    assert state.wanted_inventories(known, fewer, {}) == {
        'PGPU': tree.inventory(1, 0)}


def test_unhealthy_free_units_are_reserved_within_what_is_not_allocated():
    """reserved <= total - used: an allocation nobody has bound yet (Nova
    scheduled before the unit turned unhealthy) keeps its unit."""
    sick = [dataclasses.replace(u, healthy=False) for u in GPUS[:2]]
    desired = _pool(sick + GPUS[2:])
    known = _known(4)
    assert state.needs_usages(known, desired)
    assert state.wanted_inventories(known, desired, {}) == {
        'PGPU': tree.inventory(4, 2)}
    assert state.wanted_inventories(known, desired, {'PGPU': 3}) == {
        'PGPU': tree.inventory(4, 1)}
    assert state.wanted_inventories(known, desired, {'PGPU': 4}) == {
        'PGPU': tree.inventory(4, 0)}
    assert not state.needs_usages(known, _pool(GPUS))


def test_gone_pool_is_kept_only_for_what_is_allocated():
    known = _known(4)
    assert state.needs_usages(known, None)
    assert state.wanted_inventories(known, None, {'PGPU': 2}) == {
        'PGPU': tree.inventory(2, 2)}
    assert state.wanted_inventories(known, None, {'PGPU': 0}) == {}


def test_growing_or_equal_inventory_needs_no_usage_read():
    known = _known(4)
    assert not state.needs_usages(known, _pool(GPUS))
    assert state.same_inventories(
        known.inventories, state.wanted_inventories(known, _pool(GPUS), {}))
    grown = _known(2)
    assert not state.needs_usages(grown, _pool(GPUS))


def test_inventory_comparison_ignores_extra_fields_from_placement():
    current = {'PGPU': dict(tree.inventory(4, 0), extra='x')}
    assert state.same_inventories(current, {'PGPU': tree.inventory(4, 0)})
    assert not state.same_inventories(current, {'PGPU': tree.inventory(4, 1)})
    assert not state.same_inventories({}, {'PGPU': tree.inventory(4, 0)})


def test_ownership():
    name = 'compute-1_GPU_10DE_2330'
    ours = pools.provider_uuid(name)
    assert state.is_ours('any', name, frozenset({'OWNER_CYBORG'}), {})
    # Half-created by an interrupted cycle: adopted.
    assert state.is_ours(ours, name, frozenset(), {})
    # Someone else's provider, even with our name pattern: never touched.
    assert not state.is_ours('other', name, frozenset(), {})
    assert not state.is_ours(ours, name, frozenset({'CUSTOM_X'}), {})
    assert not state.is_ours(ours, name, frozenset(),
                             {'PGPU': tree.inventory(1, 0)})


def test_usages_stay_valid_across_our_own_writes():
    known = _known(4)
    known.usages, known.usages_generation = {'PGPU': 1}, 3
    known.advance(4)
    assert known.usages_current
    known.generation = 9  # someone else changed it
    assert not known.usages_current
