"""Pools and their providers: which units are interchangeable, and the
name and uuid of the provider each pool becomes.

Provider uuids are derived from names, so a restarted or reinstalled agent
finds the providers it made before.
"""
import dataclasses
import hashlib
import uuid

from cyborg_placement.vocabulary import resource_class
from cyborg_placement.vocabulary import RESOURCE_CLASSES
from cyborg_placement.vocabulary import standard_traits
from cyborg_placement.vocabulary import Unit
from cyborg_placement.vocabulary import vgpu_trait

#: Fixed namespace of provider uuids: uuid5(NAMESPACE, provider name).
NAMESPACE = uuid.UUID('2f1a6c5e-3b0d-5a7e-9c41-6f1e0d8b7a52')


@dataclasses.dataclass(frozen=True, order=True)
class PoolKey:
    """Units with equal keys are interchangeable: they form one provider."""

    device_type: str
    vendor_id: str
    product_id: str
    resource_class: str
    traits: frozenset[str]
    numa_node: int | None = None
    #: A vGPU pool's profile (one pool per host, product and profile).
    vgpu_profile: str | None = None

    @property
    def extra_traits(self) -> frozenset[str]:
        return self.traits - standard_traits(self)


def pool_key(unit: Unit, pool_by_numa: bool = False) -> PoolKey:
    return PoolKey(
        device_type=unit.device_type,
        vendor_id=unit.vendor_id.lower(),
        product_id=unit.product_id.lower(),
        resource_class=resource_class(unit),
        traits=standard_traits(unit) | unit.extra_traits,
        numa_node=unit.numa_node if pool_by_numa else None,
        vgpu_profile=unit.vgpu_profile,
    )


def provider_name(root_name: str, key: PoolKey) -> str:
    """``<root>_<TYPE>_<VVVV>_<PPPP>[_NUMA<n>][_<hash>]``, and for a vGPU
    pool ``<root>_VGPU_<VVVV>_<PPPP>_<PROFILE>[_NUMA<n>][_<hash>]``.

    The hash appears only when operator rules split a pool (extra traits or a
    non-default resource class), so the common names stay readable.
    """
    if key.vgpu_profile is None:
        name = (f'{root_name}_{key.device_type}_{key.vendor_id.upper()}_'
                f'{key.product_id.upper()}')
    else:
        name = (f'{root_name}_VGPU_{key.vendor_id.upper()}_'
                f'{key.product_id.upper()}_'
                + vgpu_trait(key.vgpu_profile).removeprefix('CUSTOM_VGPU_'))
    if key.numa_node is not None:
        name += f'_NUMA{key.numa_node}'
    split = sorted(key.extra_traits)
    if key.resource_class != RESOURCE_CLASSES[key.device_type] \
            and key.vgpu_profile is None:
        split.append(key.resource_class)
    if split:
        name += '_' + hashlib.sha256(','.join(split).encode()).hexdigest()[:8]
    return name


def provider_uuid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))
