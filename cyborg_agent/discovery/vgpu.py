"""vGPU units: one per (VF, profile) of a GPU an operator rule puts in vGPU
mode (``vgpu_profiles``).

A VF holds one vGPU at most, of whichever profile it is asked for, so it is
a unit of each profile the rule allows; the driver says which of those it
would create now (the others are blocked, and reserved in Placement):

- vendor-specific VFIO (NVIDIA vGPU 17+, Hopper): the VF's
  ``nvidia/creatable_vgpu_types`` (``ID : NAME`` lines) and
  ``current_vgpu_type``;
- mdev (an A100's VFs): each ``mdev_supported_types/<type>`` whose
  ``available_instances`` is not 0, or holding this unit's mdev. The mdev's
  UUID is the unit's own, derived from the host, the VF and the type, so
  the agent, Nova's driver and a restarted either find the same one.

A VF that holds a vGPU lists nothing, and a GPU that holds one profile
lists no other, so a profile's type id comes from what the host's VFs list
now or listed before: :class:`TypeNames` remembers (in ``[agent]
state_dir``, so a restarted agent whose GPUs are full still knows). A
profile never listed on the host has no units until it is. The profile's
cap per GPU (the rule's number) is applied where the pool's reserved units
are computed (:mod:`cyborg_agent.publish.tree`), because it depends on
which units are held.
"""
import uuid

from oslo_log import log as logging

from cyborg_agent import saved_state
from cyborg_agent.discovery.sysfs import PciRecord
from cyborg_placement.vocabulary import Unit

LOG = logging.getLogger(__name__)

VFIO = 'vfio'
MDEV = 'mdev'
CREATED = 'created'
CREATABLE = 'creatable'
BLOCKED = 'blocked'
#: Fixed namespace of mdev UUIDs: uuid5(NAMESPACE, "host/VF/type").
NAMESPACE = uuid.UUID('6b3e0a52-8f4d-5c1e-9a27-3d5f7c1b8e64')


def mdev_uuid(host: str, vf_address: str, type_id: str) -> str:
    """The UUID of the mdev of ``type_id`` on ``vf_address``: the same on
    every cycle and after any restart, so an mdev is found, not made twice."""
    return str(uuid.uuid5(NAMESPACE, f'{host}/{vf_address}/{type_id}'))


class TypeNames:
    """Vendor-VFIO type id -> profile name, as the driver listed them."""

    def __init__(self, saved: saved_state.StateFile | None = None) -> None:
        self._saved = saved
        document = saved.read() if saved is not None else None
        self.names: dict[str, str] = {
            str(k): v for k, v in (document or {}).items()
            if isinstance(v, str)}

    def learn(self, records: list[PciRecord]) -> None:
        before = dict(self.names)
        for record in records:
            if record.vgpu is not None:
                self.names.update(record.vgpu.creatable)
        if self.names != before and self._saved is not None:
            self._saved.write(self.names)


def _unit(vf: PciRecord, pf: PciRecord, interface: str, type_id: str,
          profile: str, most: int | None, traits: frozenset[str],
          state: str, mdev: str | None = None) -> Unit:
    return Unit(
        address=vf.address, vendor_id=vf.vendor_id, product_id=vf.product_id,
        device_type='GPU', numa_node=vf.numa_node, driver=vf.driver,
        physfn=pf.address, extra_traits=traits, vgpu_interface=interface,
        vgpu_type=type_id, vgpu_profile=profile, parent_address=pf.address,
        mdev_uuid=mdev, vgpu_state=state, vgpu_max=most)


def _vfio_units(vf: PciRecord, pf: PciRecord, profiles: dict,
                traits: frozenset[str], names: TypeNames) -> list[Unit]:
    vgpu = vf.vgpu
    ids = {name: type_id for type_id, name in names.names.items()}
    units = []
    for name, most in sorted(profiles.items()):
        type_id = ids.get(name)
        if type_id is None:
            continue  # never listed on this host yet: its id is unknown
        state = (CREATED if vgpu.current == type_id
                 else CREATABLE if type_id in vgpu.creatable else BLOCKED)
        units.append(_unit(vf, pf, VFIO, type_id, name, most, traits, state))
    return units


def _mdev_units(vf: PciRecord, pf: PciRecord, profiles: dict,
                traits: frozenset[str], host: str) -> list[Unit]:
    units = []
    busy = any(t.devices for t in vf.mdev_types)
    for kind in vf.mdev_types:
        name = kind.name or kind.type_id
        if name not in profiles:
            continue
        mine = mdev_uuid(host, vf.address, kind.type_id)
        state = (CREATED if mine in kind.devices
                 else CREATABLE if not busy and kind.available_instances
                 else BLOCKED)
        units.append(_unit(vf, pf, MDEV, kind.type_id, name, profiles[name],
                           traits, state, mine))
    return units


def units(vf: PciRecord, pf: PciRecord,
          profiles: tuple[tuple[str, int | None], ...],
          traits: frozenset[str], host: str, names: TypeNames) -> list[Unit]:
    """The vGPU units of one VF of ``pf``, for the rule's ``profiles``:
    one per profile, whatever the VF holds now, so that pools and the
    API's records stay put while vGPUs come and go (only how many are
    offered changes: :func:`cyborg_agent.publish.tree.build`)."""
    allowed = dict(profiles)
    if vf.vgpu is not None:
        return _vfio_units(vf, pf, allowed, traits, names)
    return _mdev_units(vf, pf, allowed, traits, host)
