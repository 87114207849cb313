"""PCI records -> devices (classified functions) -> assignable units.

A PF whose SR-IOV VFs are enabled offers its VFs, each a unit with its own ids;
the PF itself is then not assignable. Any other accelerator function is one unit.
A GPU an operator rule puts in vGPU mode offers each VF once per profile
(:mod:`.vgpu`), and never itself.
Every function read is kept as a :class:`Device`, accelerator or not, so that
``cyborg-agent discover`` can show what was looked at and why it was left out.
"""
import dataclasses

from cyborg_agent.discovery import classify as classify_mod
from cyborg_agent.discovery import rules as rules_mod
from cyborg_agent.discovery import vgpu as vgpu_mod
from cyborg_agent.discovery.sysfs import PciRecord
from cyborg_placement.vocabulary import Unit


@dataclasses.dataclass
class Device:
    """One PCI function with its classification.

    ``units`` is filled on the function that offers them (a PF offers its VFs);
    a VF that is a unit of its PF names it in ``unit_of`` and has no units.
    """

    record: PciRecord
    classification: classify_mod.Classification
    units: list[Unit] = dataclasses.field(default_factory=list)
    unit_of: str | None = None

    @property
    def device_type(self) -> str | None:
        return self.classification.device_type


def make_unit(record: PciRecord, classification: classify_mod.Classification,
              physfn: str | None = None) -> Unit:
    return Unit(
        address=record.address, vendor_id=record.vendor_id,
        product_id=record.product_id,
        device_type=classification.device_type,
        numa_node=record.numa_node, socket=record.socket,
        driver=record.driver, physfn=physfn,
        resource_class=classification.resource_class,
        extra_traits=classification.traits)


def _lost_vf_records(records: list[PciRecord]) -> list[PciRecord]:
    """Stand-ins for VFs the kernel lost while their PF still lists them.

    They stay units (unhealthy ones, with the PF's vendor and its VF device
    id), so their pool keeps counting them and a holder keeps its unit,
    rather than vanishing as if the operator had removed them.
    """
    present = {record.address for record in records}
    return [PciRecord(address, pf.vendor_id, pf.sriov_vf_device,
                      pf.pci_class, numa_node=pf.numa_node,
                      socket=pf.socket,
                      physfn=pf.address,
                      problems=['the function is gone from sysfs (its PF '
                                'still lists it)'])
            for pf in records if pf.sriov_vf_device
            for address in pf.lost_vfs if address not in present]


def _pf_of(records: dict[str, PciRecord]) -> dict[str, str]:
    """VF address -> PF address, from the PFs' ``virtfn*`` and VFs' ``physfn``.

    Either link alone is enough, so one broken link does not split a VF from
    its PF; a VF whose PF could not be read stands on its own.
    """
    parents = {}
    for record in records.values():
        for vf in record.virtfns:
            if vf in records:
                parents[vf] = record.address
    for record in records.values():
        if (record.physfn in records and record.address not in parents
                and record.physfn not in parents):
            parents[record.address] = record.physfn
    return parents


def build_devices(records: list[PciRecord], rules: list[rules_mod.Rule],
                  host: str = '',
                  vgpu_names: vgpu_mod.TypeNames | None = None
                  ) -> list[Device]:
    """Classify every record and attach units, in PCI address order.

    ``host`` names the mdevs of vGPU units; ``vgpu_names`` remembers the
    vendor type names the driver listed (a fresh memory when None).
    """
    vgpu_names = vgpu_names or vgpu_mod.TypeNames()
    vgpu_names.learn(records)
    records = records + _lost_vf_records(records)
    by_address = {record.address: record for record in records}
    parents = _pf_of(by_address)
    children: dict[str, list[str]] = {}
    for vf, pf in sorted(parents.items()):
        children.setdefault(pf, []).append(vf)
    devices = {}
    for record in records:
        if record.address in parents:
            continue
        cls = classify_mod.classify(record, rules)
        device = devices[record.address] = Device(record, cls)
        for vf_address in children.get(record.address, ()):
            vf = by_address[vf_address]
            vf_cls = classify_mod.classify(vf, rules, parent=cls)
            devices[vf_address] = Device(vf, vf_cls, unit_of=record.address)
            if cls.vgpu_profiles:
                if vf_cls.vgpu_profiles:
                    device.units += vgpu_mod.units(
                        vf, record, vf_cls.vgpu_profiles, vf_cls.traits,
                        host, vgpu_names)
            elif vf_cls.device_type:
                device.units.append(make_unit(vf, vf_cls, record.address))
        if (cls.device_type and record.address not in children
                and not cls.vgpu_profiles):
            device.units.append(make_unit(record, cls))
    return [devices[address] for address in sorted(devices)]


def units_of(devices: list[Device]) -> list[Unit]:
    return [unit for device in devices for unit in device.units]
