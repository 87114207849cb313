"""What the attach flow refuses; the API turns each into an error code.

Messages are shown to users as they are, so each says what to do next.
"""


class AttachError(Exception):
    """Base of the attach flow's refusals."""


class NoPool(AttachError):
    """The accelerator was never reported with a pool provider."""


class Missing(AttachError):
    """The accelerator is missing from its host."""


class Unschedulable(AttachError):
    """The accelerator is unhealthy or disabled: nobody new may have it."""


class WrongHost(AttachError):
    """The instance's allocations are on another host."""


class VgpuToHost(AttachError):
    """A vGPU unit goes to a guest; the host has no use for it."""


class NoCapacity(AttachError):
    """Placement has no unit left for the claim, or all held units are bound."""


class PlacementRefused(AttachError):
    """Placement refused the claim for a reason other than capacity."""


class Contended(AttachError):
    """Someone else changed the same consumer or record first; try again."""


class ForeignAllocation(AttachError):
    """The unit is held by an allocation the API did not make (Nova's)."""


class StateChanged(AttachError):
    """An attachment changed state while we were changing it."""


class NotEnoughUnits(AttachError):
    """A pool has fewer bindable units than the instance's allocation holds."""


class NumaAffinityUnmet(AttachError):
    """A pool has the units to bind, but not where the instance's NUMA
    affinity policy allows: on (or by the socket of) the guest's nodes."""

    def __init__(self, nodes: list[int], message: str) -> None:
        self.nodes = nodes
        super().__init__(message)


class PoolNotInPlacement(AttachError):
    """A pool the caller asks units of is not in Placement: its provider
    was deleted, or Placement's database was restored. Nothing is held
    there, and nothing can be until the host's agent publishes it again."""

    def __init__(self, pool: str) -> None:
        self.pool = pool
        super().__init__(
            f'Pool {pool} is not in Placement (its provider was deleted, or '
            "Placement's database was restored): none of its units can be "
            "claimed or bound until its host's agent publishes it again, on "
            'its next cycle. Try again then, or choose a unit of another '
            'pool.')


class UnknownPool(AttachError):
    """An accelerator request names a provider that is none of our pools."""


class VfioVgpuRequest(AttachError):
    """An accelerator request asks for a vendor-VFIO vGPU, which stock Nova
    cannot put into a guest: it writes every PCI ARQ's hostdev with
    managed='yes', and libvirt would take the VF from its vendor driver."""

    def __init__(self, pool: str) -> None:
        self.pool = pool
        super().__init__(
            f'device_rp_uuid {pool} is a pool of vendor-specific VFIO vGPUs '
            "(NVIDIA vGPU 17+): Nova's libvirt driver writes managed='yes' "
            'for accelerator requests, which takes the VF from its vendor '
            "driver and breaks the vGPU. Boot such flavors on computes "
            "running this project's Nova driver "
            '(nova_ext.virt.libvirt.LibvirtDriver), which binds them itself '
            "with managed='no'; use mdev vGPU pools with stock Nova.")


class RequestsNotBindable(AttachError):
    """The instance's allocation holds fewer units of a pool than the
    accelerator requests bound to it ask for."""


class RequestStateConflict(AttachError):
    """An accelerator request is bound elsewhere (or not bound) already."""


class DerivedAttribute(AttachError):
    """The attribute is the unit's resource class or one of its traits,
    which its agent's report decides, not an admin."""
