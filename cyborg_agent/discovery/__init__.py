"""Accelerator discovery: sysfs -> PCI functions -> classified devices -> units.

Entry points: :func:`discover_units` gives the units sysfs shows (cheap:
sysfs only); :func:`discover_devices` is what ``cyborg-agent discover``
shows (every function looked at, with names and plugin facts) and, without
enrichment, what the daemon reads every cycle, with
:func:`plugin_problems` (the plugins' health checks) beside it.
Both raise :class:`~cyborg_agent.discovery.rules.InvalidRule` for a bad
``[agent] device_rule``, and nothing for bad sysfs data.
"""
from oslo_config import cfg

from cyborg_agent.discovery import inventory
from cyborg_agent.discovery import pciids
from cyborg_agent.discovery import plugins
from cyborg_agent.discovery import rules
from cyborg_agent.discovery import sysfs
from cyborg_agent.discovery import topology
from cyborg_agent.discovery import vgpu
from cyborg_placement.placement import hostname
from cyborg_placement.vocabulary import Unit


def discover_devices(conf: cfg.ConfigOpts, sysfs_root: str | None = None,
                     enrich: bool = True,
                     vgpu_names: vgpu.TypeNames | None = None
                     ) -> list[inventory.Device]:
    """Every PCI function under the sysfs root, classified, with its units.

    ``enrich`` adds pci.ids names and the facts of the enrichment plugins;
    ``vgpu_names`` is the daemon's memory of vGPU type names.
    """
    operator_rules = rules.parse_rules(conf.agent.device_rule)
    root = sysfs_root or conf.agent.sysfs_root
    records = sysfs.read_functions(root)
    sockets = topology.node_sockets(root)
    for record in records:
        record.socket = sockets.get(record.numa_node)
    if enrich:
        names = pciids.load({r.vendor_id for r in records},
                            conf.agent.pci_ids_path)
        for record in records:
            record.vendor_name = names.vendor(record.vendor_id)
            record.product_name = names.product(record.vendor_id,
                                                record.product_id)
        plugins.enrich(records, conf)
    return inventory.build_devices(records, operator_rules,
                                   hostname.root_provider_name(conf),
                                   vgpu_names)


def discover_units(conf: cfg.ConfigOpts,
                   vgpu_names: vgpu.TypeNames | None = None) -> list[Unit]:
    """This host's assignable units, read from ``[agent] sysfs_root``."""
    return inventory.units_of(discover_devices(conf, enrich=False,
                                               vgpu_names=vgpu_names))


def plugin_problems(devices: list[inventory.Device], conf: cfg.ConfigOpts
                    ) -> dict[str, list[str]]:
    """PCI address -> error states the enrichment plugins report now."""
    return plugins.health([device.record for device in devices], conf)
