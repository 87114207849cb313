"""Which free units each NUMA affinity policy allows, and in what order."""
import dataclasses

import pytest

from cyborg_placement.attach import exceptions
from cyborg_placement.attach import numa


@dataclasses.dataclass
class U:
    name: str
    numa_node: int | None
    socket: int | None


#: Two sockets of two nodes each (sub-NUMA clustering), a unit on each node
#: and one whose firmware gives no node.
N0, N1, N2, N3 = (U(f'n{n}', n, n // 2) for n in range(4))
NONE = U('none', None, None)
FREE = [N3, NONE, N2, N1, N0]


def chosen(policy: str, nodes=(0,), sockets=(0,)) -> list[str]:
    affinity = numa.Affinity(policy, frozenset(nodes), frozenset(sockets))
    return [unit.name for unit in affinity.choose(FREE)]


def test_required_takes_only_the_guests_nodes():
    assert chosen('required') == ['n0']
    assert chosen('required', nodes=(0, 3), sockets=(0, 1)) == ['n3', 'n0']


def test_socket_takes_the_guests_socket_nearest_first():
    assert chosen('socket') == ['n0', 'n1']
    # Without a known socket, the guest's own nodes still qualify.
    assert chosen('socket', sockets=()) == ['n0']


def test_preferred_takes_any_nearest_first():
    assert chosen('preferred') == ['n0', 'n1', 'n3', 'none', 'n2']


def test_legacy_takes_the_guests_nodes_and_units_without_one():
    assert chosen('legacy') == ['n0', 'none']


class Pool:
    uuid = 'pool-1'
    resource_class = 'PGPU'


@dataclasses.dataclass
class Plan:
    free: list
    needed: int
    pool: Pool = dataclasses.field(default_factory=Pool)


def test_arrange_orders_the_free_units_of_each_plan():
    plan = Plan(list(FREE), needed=2)
    numa.arrange([plan], numa.Affinity('preferred', frozenset({1}),
                                       frozenset({0})), 'i1', 'cn1')
    assert [u.name for u in plan.free[:2]] == ['n1', 'n0']


def test_arrange_refuses_naming_the_nodes_and_leaves_kept_pools_alone():
    kept = Plan([], needed=0)
    short = Plan([N1, N2, NONE], needed=1)
    with pytest.raises(exceptions.NumaAffinityUnmet) as caught:
        numa.arrange([kept, short], numa.Affinity(
            'required', frozenset({0}), frozenset({0})), 'i1', 'cn1')
    assert caught.value.nodes == [0]
    text = str(caught.value)
    assert "policy 'required'" in text
    assert 'NUMA node(s) 0 (socket(s) 0)' in text
    assert 'free units are on NUMA node(s) 1, 2 and units without one' in text
    assert text.endswith('Nothing was bound.')
