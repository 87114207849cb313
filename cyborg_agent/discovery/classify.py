"""Which PCI functions are accelerators, and of which type (design section 3).

The default table is deliberately conservative: a device the table does not know
(network cards, BMC VGA, storage, bridges, virtio) is not an accelerator unless
an operator rule says so, because publishing a host's boot NIC as assignable
would let Nova hand it to a guest.
"""
import dataclasses

from cyborg_agent.discovery import rules as rules_mod
from cyborg_agent.discovery.sysfs import PciRecord

#: Vendors whose VGA and "other display" functions are real GPUs.
GPU_VENDORS = frozenset({'10de', '1002'})
#: Processing accelerators (class 1200) that are FPGAs; others are AI chips.
FPGA_IDS = frozenset({('8086', '09c4'), ('8086', '0b2b'), ('8086', '0b30')})
FPGA_VENDORS = frozenset({'10ee'})
#: Intel QuickAssist PFs and their VFs (co-processor class 0b40).
QAT_IDS = frozenset(('8086', product) for product in (
    '0435', '37c8', '19e2', '4940', '4942', '4944', '4946',
    '0443', '37c9', '19e3', '4941', '4943', '4945', '4947'))


@dataclasses.dataclass(frozen=True)
class Classification:
    """What a function is: its type (None: not an accelerator) and rule extras."""

    device_type: str | None
    resource_class: str | None = None
    traits: frozenset[str] = frozenset()
    rule: rules_mod.Rule | None = None
    #: The GPU is in vGPU mode (its rule's ``vgpu_profiles``).
    vgpu_profiles: tuple[tuple[str, int | None], ...] = ()


NOT_ACCELERATOR = Classification(None)


def default_type(record: PciRecord) -> str | None:
    """The design's table, first match wins."""
    base = record.pci_class[:4]
    ids = (record.vendor_id, record.product_id)
    if base == '0302':
        return 'GPU'
    if base in ('0300', '0380'):
        return 'GPU' if record.vendor_id in GPU_VENDORS else None
    if base == '1200':
        return ('FPGA' if ids in FPGA_IDS or record.vendor_id in FPGA_VENDORS
                else 'AI')
    if base == '0b40':
        return 'CRYPTO' if ids in QAT_IDS else None
    if base in ('1000', '1080'):
        return 'CRYPTO'
    return None


def classify(record: PciRecord, rules: list[rules_mod.Rule],
             parent: Classification | None = None) -> Classification:
    """Operator rules first, then ``parent`` (a VF's PF) or the default table.

    A VF is what its PF is, unless a rule names the VF itself (to set some VFs
    aside by address, say); such a rule's missing parts come from the PF
    when it keeps the PF's type.
    """
    rule = rules_mod.first_match(rules, record)
    inherited = parent or Classification(default_type(record))
    if rule is None:
        return inherited
    if rule.exclude:
        return Classification(None, rule=rule)
    if rule.vgpu_profiles:
        return Classification('GPU', traits=rule.traits, rule=rule,
                              vgpu_profiles=rule.vgpu_profiles)
    device_type = rule.device_type or inherited.device_type
    if device_type is None:
        return Classification(None, rule=rule)
    if device_type != inherited.device_type:
        inherited = Classification(device_type)
    return Classification(
        device_type, rule.resource_class or inherited.resource_class,
        rule.traits or inherited.traits, rule)
