"""The vocabulary the agent and the API share: device types, the unit, and
the names of resource classes and traits.

These names are a contract with operators (flavor extra specs name our traits
and resource classes). This module imports nothing of ours, so both sides can
use it without depending on each other.
"""
import dataclasses
import hashlib
import json

import os_resource_classes as orc
import os_traits

DEVICE_TYPES = ('GPU', 'FPGA', 'CRYPTO', 'AI', 'NIC')


@dataclasses.dataclass(frozen=True)
class Unit:
    """One assignable accelerator unit: a VF of an SR-IOV PF, or a whole PF.

    Ids are the unit's own (a VF's ids, not its PF's), 4 lower-case hex digits.
    ``resource_class`` and ``extra_traits`` are set only when an operator rule
    asks for them; otherwise the defaults of this module
    apply. Health and ``disabled`` do not change the unit's pool: an
    unschedulable free unit is reserved in it.
    """

    address: str
    vendor_id: str
    product_id: str
    device_type: str
    numa_node: int | None = None
    #: The CPU socket of its NUMA node (None: unknown, or no NUMA node).
    socket: int | None = None
    driver: str | None = None
    physfn: str | None = None
    resource_class: str | None = None
    extra_traits: frozenset[str] = frozenset()
    healthy: bool = True
    health_reason: str | None = None
    #: An operator disabled it (the API says so); it is offered to nobody
    #: new, as an unhealthy unit.
    disabled: bool = False

    @property
    def schedulable(self) -> bool:
        return self.healthy and not self.disabled


RESOURCE_CLASSES = {
    'GPU': orc.PGPU,
    'FPGA': orc.FPGA,
    'CRYPTO': 'CUSTOM_ACCEL_CRYPTO',
    'AI': 'CUSTOM_ACCEL_AI',
    'NIC': 'CUSTOM_ACCEL_NIC',
}


def resource_class(unit: Unit) -> str:
    return unit.resource_class or RESOURCE_CLASSES[unit.device_type]


def type_trait(device_type: str) -> str:
    return f'CUSTOM_ACCEL_{device_type}'


def vendor_trait(vendor_id: str) -> str:
    return f'CUSTOM_ACCEL_VENDOR_{vendor_id.upper():0>4}'


def product_trait(vendor_id: str, product_id: str) -> str:
    return f'CUSTOM_ACCEL_PRODUCT_{vendor_id.upper():0>4}_{product_id.upper():0>4}'


def standard_traits(unit: Unit) -> frozenset[str]:
    """The traits every pool of this kind of unit carries."""
    return frozenset({
        os_traits.OWNER_CYBORG,
        type_trait(unit.device_type),
        vendor_trait(unit.vendor_id),
        product_trait(unit.vendor_id, unit.product_id),
    })


def is_owned_trait(trait: str) -> bool:
    """Traits the agent manages; others on our providers belong to operators."""
    return trait == os_traits.OWNER_CYBORG or trait.startswith('CUSTOM_ACCEL_')




def report_digest(report: dict) -> str:
    """The digest of a device report body, the same for the same report
    whatever the order of its keys.

    The agent keeps the digest of the last report the API accepted; the
    API keeps it too and says it in the host's feed, and the agent sends
    its report again whenever the two differ (an API on a new or restored
    database), so both compute it here, from the body as sent.
    """
    return hashlib.sha256(json.dumps(report, sort_keys=True).encode()
                          ).hexdigest()
