"""How units become Placement names: resource classes, traits, pools, providers.

These rules are a contract with operators (flavor extra specs name our traits and
resource classes) and with ourselves across restarts (provider uuids are derived
from names, so a reinstalled agent finds the providers it made before).
"""
import dataclasses
import hashlib
import uuid

import os_resource_classes as orc
import os_traits

from cyborg_agent.discovery.model import Unit

#: Fixed namespace of provider uuids: uuid5(NAMESPACE, provider name).
NAMESPACE = uuid.UUID('2f1a6c5e-3b0d-5a7e-9c41-6f1e0d8b7a52')

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


@dataclasses.dataclass(frozen=True, order=True)
class PoolKey:
    """Units with equal keys are interchangeable: they form one provider."""

    device_type: str
    vendor_id: str
    product_id: str
    resource_class: str
    traits: frozenset[str]
    numa_node: int | None = None

    @property
    def extra_traits(self) -> frozenset[str]:
        return self.traits - standard_traits(
            Unit('', self.vendor_id, self.product_id, self.device_type))


def pool_key(unit: Unit, pool_by_numa: bool = False) -> PoolKey:
    return PoolKey(
        device_type=unit.device_type,
        vendor_id=unit.vendor_id.lower(),
        product_id=unit.product_id.lower(),
        resource_class=resource_class(unit),
        traits=standard_traits(unit) | unit.extra_traits,
        numa_node=unit.numa_node if pool_by_numa else None,
    )


def provider_name(root_name: str, key: PoolKey) -> str:
    """``<root>_<TYPE>_<VVVV>_<PPPP>[_NUMA<n>][_<hash>]``.

    The hash appears only when operator rules split a pool (extra traits or a
    non-default resource class), so the common names stay readable.
    """
    name = (f'{root_name}_{key.device_type}_{key.vendor_id.upper()}_'
            f'{key.product_id.upper()}')
    if key.numa_node is not None:
        name += f'_NUMA{key.numa_node}'
    split = sorted(key.extra_traits)
    if key.resource_class != RESOURCE_CLASSES[key.device_type]:
        split.append(key.resource_class)
    if split:
        name += '_' + hashlib.sha256(','.join(split).encode()).hexdigest()[:8]
    return name


def provider_uuid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))
