"""NUMA affinity of the units a bind takes: Nova's PCI NUMA policies.

Nova fits a guest with a NUMA topology onto host NUMA cells before its
driver builds the guest, and the driver binds the instance's units then
(``PUT /instances/{uuid}/bindings`` with ``numa``): so the bind can pick
units near the guest's CPUs, which Placement cannot (Nova builds no NUMA
providers). The policies mean what Nova's ``hw:pci_numa_affinity_policy``
means for its own PCI devices:

- ``required``: each unit on one of the guest's host NUMA nodes;
- ``socket``: each unit on a node of the same socket as one of them;
- ``preferred``: the nearest free units, whatever node they are on;
- ``legacy`` (Nova's default): ``required`` for a unit that reports a NUMA
  node, any node for one that reports none.

Every policy takes the nearest units first: on a guest's node, then on its
socket, then the rest. Units already bound to the instance are kept as they
are (a repeated bind, a hard reboot): only the units a bind adds are
chosen here.
"""
import dataclasses
import typing

from cyborg_placement.attach import exceptions

REQUIRED = 'required'
SOCKET = 'socket'
PREFERRED = 'preferred'
LEGACY = 'legacy'
POLICIES = (REQUIRED, SOCKET, PREFERRED, LEGACY)

#: How near a unit is to the guest: on one of its nodes, on the socket of
#: one, or elsewhere (or it does not say).
_ON_NODE, _ON_SOCKET, _ELSEWHERE = range(3)


class _Unit(typing.Protocol):
    numa_node: int | None
    socket: int | None


@dataclasses.dataclass(frozen=True)
class Affinity:
    """The guest's host NUMA nodes, their sockets, and the policy."""

    policy: str
    nodes: frozenset[int]
    sockets: frozenset[int] = frozenset()

    @classmethod
    def from_body(cls, body: dict | None) -> 'Affinity | None':
        """From the bind body's ``numa`` (schema-checked); None without."""
        if body is None:
            return None
        return cls(body['policy'], frozenset(body['nodes']),
                   frozenset(body.get('sockets', ())))

    def nearness(self, unit: _Unit) -> int:
        if unit.numa_node is not None and unit.numa_node in self.nodes:
            return _ON_NODE
        if unit.socket is not None and unit.socket in self.sockets:
            return _ON_SOCKET
        return _ELSEWHERE

    def allows(self, unit: _Unit) -> bool:
        near = self.nearness(unit)
        if self.policy == REQUIRED:
            return near == _ON_NODE
        if self.policy == SOCKET:
            return near <= _ON_SOCKET
        if self.policy == LEGACY:
            return near == _ON_NODE or unit.numa_node is None
        return True

    def choose(self, units: list) -> list:
        """The units the policy allows, nearest first (in their order)."""
        return sorted((unit for unit in units if self.allows(unit)),
                      key=self.nearness)

    def describe(self) -> str:
        where = f'NUMA node(s) {_listed(self.nodes)}'
        if self.sockets:
            where += f' (socket(s) {_listed(self.sockets)})'
        return where


def _listed(numbers: typing.Iterable[int]) -> str:
    return ', '.join(str(n) for n in sorted(numbers)) or 'none'


def _nodes_of(units: list[_Unit]) -> str:
    nodes = {unit.numa_node for unit in units}
    named = _listed(n for n in nodes if n is not None)
    return named + (' and units without one' if None in nodes else '')


def arrange(plans: list, affinity: Affinity, instance_uuid: str,
            host: str) -> None:
    """Narrow and order each plan's free units (``plan.free``) by the
    policy, before anything is written.

    :raises NumaAffinityUnmet: a pool has enough free units, but fewer
        than needed where the policy allows; it names the guest's nodes
        and those of the free units.
    """
    unmet = []
    for plan in plans:
        if not plan.needed:
            continue
        allowed = affinity.choose(plan.free)
        if len(allowed) < plan.needed:
            unmet.append(
                f'Pool {plan.pool.uuid} ({plan.pool.resource_class}) on host '
                f'{host} has {len(allowed)} free unit(s) that policy '
                f'{affinity.policy!r} allows for instance {instance_uuid}, '
                f'whose guest runs on {affinity.describe()}; it needs '
                f'{plan.needed}. Its free units are on NUMA node(s) '
                f'{_nodes_of(plan.free)}.')
        plan.free = allowed
    if unmet:
        raise exceptions.NumaAffinityUnmet(
            sorted(affinity.nodes), ' '.join(unmet) + ' Nothing was bound.')
