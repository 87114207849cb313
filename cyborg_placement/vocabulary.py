"""The vocabulary the agent and the API share: device types, the unit, and
the names of resource classes and traits.

These names are a contract with operators (flavor extra specs name our traits
and resource classes). This module imports nothing of ours, so both sides can
use it without depending on each other.
"""
import dataclasses
import hashlib
import json
import re
import typing

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
    #: A vGPU unit: one profile on one VF (``address``) of the GPU
    #: ``parent_address``. ``vgpu_interface`` is ``vfio`` (NVIDIA's
    #: vendor-specific VFIO: ``vgpu_type`` is the id written to the VF's
    #: ``current_vgpu_type``) or ``mdev`` (``vgpu_type`` is the
    #: ``mdev_supported_types`` directory, ``mdev_uuid`` the mdev's UUID);
    #: ``vgpu_profile`` the name the driver lists. None for a whole device.
    vgpu_interface: str | None = None
    vgpu_type: str | None = None
    vgpu_profile: str | None = None
    parent_address: str | None = None
    mdev_uuid: str | None = None
    #: ``created`` (the vGPU exists), ``creatable`` (the driver lists it
    #: on the VF now) or ``blocked`` (it does not: the GPU holds another
    #: profile, or the VF another vGPU). Only a creatable unit is offered.
    vgpu_state: str | None = None
    #: At most this many vGPUs of the profile on one GPU (the operator's
    #: rule; None: as many as the driver lists).
    vgpu_max: int | None = None

    @property
    def schedulable(self) -> bool:
        return self.healthy and not self.disabled

    @property
    def key(self) -> tuple[str, str | None]:
        """What tells a host's units apart: a VF is one unit per profile."""
        return (self.address, self.vgpu_type)


#: Nova's standard resource class of vGPU pools.
VGPU_RESOURCE_CLASS = orc.VGPU


def vgpu_trait(profile: str) -> str:
    """``NVIDIA H200X-1-18C`` -> ``CUSTOM_VGPU_NVIDIA_H200X_1_18C``: the
    trait a flavor requires for one profile."""
    return 'CUSTOM_VGPU_' + re.sub(r'[^A-Z0-9]+', '_',
                                   profile.upper()).strip('_')


RESOURCE_CLASSES = {
    'GPU': orc.PGPU,
    'FPGA': orc.FPGA,
    'CRYPTO': 'CUSTOM_ACCEL_CRYPTO',
    'AI': 'CUSTOM_ACCEL_AI',
    'NIC': 'CUSTOM_ACCEL_NIC',
}


def resource_class(unit: Unit) -> str:
    if unit.vgpu_profile is not None:
        return VGPU_RESOURCE_CLASS
    return unit.resource_class or RESOURCE_CLASSES[unit.device_type]


def type_trait(device_type: str) -> str:
    return f'CUSTOM_ACCEL_{device_type}'


def vendor_trait(vendor_id: str) -> str:
    return f'CUSTOM_ACCEL_VENDOR_{vendor_id.upper():0>4}'


def product_trait(vendor_id: str, product_id: str) -> str:
    return f'CUSTOM_ACCEL_PRODUCT_{vendor_id.upper():0>4}_{product_id.upper():0>4}'


class Kind(typing.Protocol):
    """What decides a pool's standard traits: a unit, a pool or a unit's
    API record."""

    device_type: str
    vendor_id: str
    product_id: str
    vgpu_profile: str | None


def standard_traits(unit: Kind) -> frozenset[str]:
    """The traits every pool of this kind of unit carries (a vGPU pool's
    also names its profile)."""
    traits = {
        os_traits.OWNER_CYBORG,
        type_trait(unit.device_type),
        vendor_trait(unit.vendor_id),
        product_trait(unit.vendor_id, unit.product_id),
    }
    if unit.vgpu_profile is not None:
        traits.add(vgpu_trait(unit.vgpu_profile))
    return frozenset(traits)


def is_owned_trait(trait: str) -> bool:
    """Traits the agent manages; others on our providers belong to operators."""
    return (trait == os_traits.OWNER_CYBORG
            or trait.startswith(('CUSTOM_ACCEL_', 'CUSTOM_VGPU_')))




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
