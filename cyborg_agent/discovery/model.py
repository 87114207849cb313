"""What discovery hands to the rest of the system: assignable units."""
import dataclasses

DEVICE_TYPES = ('GPU', 'FPGA', 'CRYPTO', 'AI', 'NIC')


@dataclasses.dataclass(frozen=True)
class Unit:
    """One assignable accelerator unit: a VF of an SR-IOV PF, or a whole PF.

    Ids are the unit's own (a VF's ids, not its PF's), 4 lower-case hex digits.
    ``resource_class`` and ``extra_traits`` are set only when an operator rule
    asks for them; otherwise the defaults of :mod:`cyborg_placement.placement.naming`
    apply.
    """

    address: str
    vendor_id: str
    product_id: str
    device_type: str
    numa_node: int | None = None
    driver: str | None = None
    physfn: str | None = None
    resource_class: str | None = None
    extra_traits: frozenset[str] = frozenset()
    healthy: bool = True
