"""``PUT /instances/{uuid}/bindings`` with the guest's NUMA placement: the
units a bind takes follow Nova's PCI NUMA affinity policies."""
import pytest

from tests.inprocess import scenario
from tests.inprocess.scenario import code

#: (NUMA node, socket) of each unit: two sockets of two nodes each
#: (sub-NUMA clustering), and a unit whose firmware gives no node.
PLACES = [(0, 0), (1, 0), (2, 1), (None, None)]


@pytest.fixture
def gpus(placement, service):
    """A pool of 4 units, one at each of :data:`PLACES`; ``by_node`` maps
    each node (None too) to its unit's uuid."""
    host = scenario.add_vcpus(placement, scenario.reported_host(
        placement, service, units=len(PLACES)))
    for entry, (node, socket) in zip(host['report']['accelerators'], PLACES,
                                     strict=True):
        entry.update(numa_node=node, socket=socket)
    answer = service.put(f'/hosts/{host["name"]}/accelerators',
                         json=host['report'])
    assert answer.status_code == 200, answer.json
    host['by_node'] = {a['numa_node']: a['uuid']
                       for a in answer.json['accelerators']}
    return host


def _bind(client, instance: str, host: dict, policy: str | None,
          nodes=(0,), sockets=(0,)):
    body = {'host': host['name']}
    if policy is not None:
        body['numa'] = {'policy': policy, 'nodes': list(nodes),
                        'sockets': list(sockets)}
    return client.put(f'/instances/{instance}/bindings', json=body)


def _nodes(answer) -> list:
    assert answer.status_code == 200, answer.json
    return sorted(((a['numa_node'], a['socket'])
                   for a in answer.json['bindings']), key=str)


def _take(service, placement, gpus, node) -> str:
    """Another instance bound to the unit on ``node``."""
    other = scenario.schedule(placement, gpus, 1)
    assert _nodes(_bind(service, other, gpus, 'required', [node],
                        [])) == [PLACES[[p[0] for p in PLACES].index(node)]]
    return other


@pytest.mark.parametrize('policy', ['required', 'socket', 'preferred',
                                    'legacy'])
def test_every_policy_takes_the_unit_on_the_guests_node(
        service, placement, gpus, policy):
    instance = scenario.schedule(placement, gpus, 1)
    assert _nodes(_bind(service, instance, gpus, policy, [1], [0])) == [
        (1, 0)]


def test_required_refuses_naming_the_nodes_and_binds_nothing(
        service, admin, placement, gpus):
    _take(service, placement, gpus, 0)
    instance = scenario.schedule(placement, gpus, 1)

    answer = _bind(service, instance, gpus, 'required', [0], [0])

    assert answer.status_code == 409
    assert code(answer) == 'accelerator.bind.numa_affinity'
    detail = answer.json['errors'][0]['detail']
    assert 'NUMA node(s) 0 (socket(s) 0)' in detail
    assert 'free units are on NUMA node(s) 1, 2 and units without one' \
        in detail
    assert _nodes(admin.get(f'/instances/{instance}/bindings')) == []


def test_socket_takes_a_node_of_the_same_socket_not_the_other(
        service, placement, gpus):
    _take(service, placement, gpus, 0)
    instance = scenario.schedule(placement, gpus, 1)
    assert _nodes(_bind(service, instance, gpus, 'socket', [0], [0])) == [
        (1, 0)]

    _take(service, placement, gpus, 2)
    second = scenario.schedule(placement, gpus, 1)
    answer = _bind(service, second, gpus, 'socket', [0], [0])
    assert (answer.status_code, code(answer)) == (
        409, 'accelerator.bind.numa_affinity')


def test_preferred_falls_back_nearest_first(service, placement, gpus):
    _take(service, placement, gpus, 0)
    instance = scenario.schedule(placement, gpus, 2)
    # Node 1 shares the guest's socket; the unit without a node is as far
    # as node 2, and comes first by its order in the pool.
    assert _nodes(_bind(service, instance, gpus, 'preferred', [0],
                        [0])) == [(1, 0), (2, 1)]


def test_legacy_takes_a_unit_that_reports_no_node(service, placement, gpus):
    _take(service, placement, gpus, 0)
    instance = scenario.schedule(placement, gpus, 1)
    assert _nodes(_bind(service, instance, gpus, 'legacy', [0], [0])) == [
        (None, None)]


def test_a_repeated_bind_keeps_its_units_whatever_the_policy(
        service, placement, gpus):
    instance = scenario.schedule(placement, gpus, 1)
    assert _nodes(_bind(service, instance, gpus, 'required', [2], [1])) == [
        (2, 1)]
    # The guest moved to node 0 (a resize on the same host): kept.
    assert _nodes(_bind(service, instance, gpus, 'required', [0], [0])) == [
        (2, 1)]
    assert _nodes(_bind(service, instance, gpus, None)) == [(2, 1)]


def test_without_numa_any_free_units_as_before(service, placement, gpus):
    instance = scenario.schedule(placement, gpus, 4)
    assert len(_nodes(_bind(service, instance, gpus, None))) == 4


def test_the_bindings_show_each_units_node_and_socket(
        service, admin, placement, gpus):
    instance = scenario.schedule(placement, gpus, 1)
    _bind(service, instance, gpus, 'required', [2], [1])
    [shown] = admin.get(f'/instances/{instance}/bindings').json['bindings']
    assert (shown['numa_node'], shown['socket']) == (2, 1)


@pytest.mark.parametrize('numa, problem', [
    ({'policy': 'strict', 'nodes': [0]}, "'strict' is not one of"),
    ({'policy': 'required', 'nodes': []}, 'should be non-empty'),
    ({'policy': 'required'}, "'nodes' is a required property"),
    ({'policy': 'required', 'nodes': [-1]}, 'less than the minimum'),
    ({'policy': 'required', 'nodes': [0, 0]}, 'non-unique'),
    ({'policy': 'socket', 'nodes': [0], 'cells': [0]},
     'Additional properties'),
])
def test_a_malformed_numa_is_refused_naming_the_problem(
        service, gpus, numa, problem):
    answer = service.put(f'/instances/{gpus["uuids"][0]}/bindings',
                         json={'host': gpus['name'], 'numa': numa})
    assert (answer.status_code, code(answer)) == (400, 'api.invalid_input')
    assert problem in answer.json['errors'][0]['detail']
