"""Where a guest's accelerators should be: its host NUMA cells, their
sockets, and the policy, as ``PUT /instances/{uuid}/bindings`` takes them.

Nova fits a guest with a NUMA topology onto host cells (the resource
tracker's claim, or a migration context's new topology) before the driver
builds its XML, so ``instance.numa_topology`` names the host cells its CPUs
and memory are on. The policy is Nova's own, read by Nova's own helper
(``hw:pci_numa_affinity_policy`` in the flavor, ``hw_pci_numa_affinity_policy``
in the image, which must agree), unless the flavor's
``accelerator:numa_affinity_policy`` sets one for accelerators alone; without
either, Nova's default, ``legacy``. Nova owns the ``accel:`` namespace and
refuses keys it does not know there, hence a namespace of our own.
"""
import typing

from nova import exception
from nova.objects import fields
from nova.virt import hardware

#: The flavor extra spec that sets the policy for accelerators only; it
#: wins over Nova's ``hw:pci_numa_affinity_policy``.
EXTRA_SPEC = 'accelerator:numa_affinity_policy'


def policy(flavor, image_meta) -> str:
    """The guest's NUMA affinity policy for its accelerators.

    :raises InvalidInput: our extra spec names no policy of Nova's.
    """
    own = (flavor.extra_specs or {}).get(EXTRA_SPEC)
    if own is not None:
        if own not in fields.PCINUMAAffinityPolicy.ALL:
            raise exception.InvalidInput(reason=(
                f'flavor extra spec {EXTRA_SPEC}={own!r} is none of '
                f'{", ".join(fields.PCINUMAAffinityPolicy.ALL)}'))
        return own
    return (hardware.get_pci_numa_policy_constraint(flavor, image_meta)
            or fields.PCINUMAAffinityPolicy.LEGACY)


def of_guest(instance, image_meta,
             host_topology: typing.Callable[[], typing.Any]) -> dict | None:
    """The bind body's ``numa``; None for a guest without a NUMA topology
    (it has no affinity to keep: its CPUs float over every node).

    ``host_topology`` gives the host's NUMA topology as Nova reports it
    (its cells carry their socket, None when a cell spans several), asked
    only for a guest that has one.
    """
    topology = instance.numa_topology
    if topology is None or not topology.cells:
        return None
    nodes = sorted({cell.id for cell in topology.cells})
    host = host_topology()
    sockets = sorted({cell.socket for cell in (host.cells if host else ())
                      if cell.id in nodes and cell.socket is not None})
    return {'policy': policy(instance.flavor, image_meta), 'nodes': nodes,
            'sockets': sockets}
