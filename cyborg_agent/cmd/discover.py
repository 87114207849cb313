"""``cyborg-agent discover``: print what discovery finds, change nothing.

Operators run it to check a host before the agent publishes it, and to test
``[agent] device_rule`` values. The JSON form is read by scripts: stdout holds
one JSON list and nothing else; logs and warnings go to stderr.
"""
import json
import os
import sys

from oslo_config import cfg

from cyborg_agent import discovery
from cyborg_agent import health
from cyborg_agent.discovery import inventory
from cyborg_agent.discovery import rules
from cyborg_agent.publish import tree
from cyborg_placement.placement import hostname
from cyborg_placement.vocabulary import Unit


def _unit_record(unit: Unit, pool: tree.PoolProvider,
                 judged: health.Health | None) -> dict:
    return {
        'address': unit.address,
        'vendor_id': unit.vendor_id,
        'product_id': unit.product_id,
        'numa_node': unit.numa_node,
        'socket': unit.socket,
        'driver': unit.driver,
        'resource_class': pool.resource_class,
        'pool': pool.name,
        'health': 'unhealthy' if judged and not judged.healthy else 'healthy',
        'health_reason': judged.reason if judged else None,
    } | ({'vgpu_interface': unit.vgpu_interface,
          'vgpu_type': unit.vgpu_type, 'vgpu_profile': unit.vgpu_profile,
          'parent_address': unit.parent_address,
          'mdev_uuid': unit.mdev_uuid, 'vgpu_state': unit.vgpu_state}
         if unit.vgpu_profile is not None else {})


def device_record(device: inventory.Device,
                  pools: dict[str, tree.PoolProvider],
                  judged: dict[str, health.Health] | None = None) -> dict:
    """The JSON object of one PCI function (design section 3).

    ``pools`` maps unit addresses to the pools the agent would publish,
    ``judged`` units to their health as one look finds it (problems now;
    AER counters are shown, their growth needs the daemon's cycles).
    """
    judged = judged or {}
    record = device.record
    sriov = None
    if record.sriov_totalvfs is not None or record.virtfns:
        sriov = {'total_vfs': record.sriov_totalvfs,
                 'num_vfs': record.sriov_numvfs, 'vfs': record.virtfns}
    result = {
        'address': record.address,
        'vendor_id': record.vendor_id,
        'product_id': record.product_id,
        'vendor_name': record.vendor_name,
        'product_name': record.product_name,
        'subsystem_vendor_id': record.subsystem_vendor_id,
        'subsystem_product_id': record.subsystem_product_id,
        'class': record.pci_class,
        'revision': record.revision,
        'numa_node': record.numa_node,
        'socket': record.socket,
        'iommu_group': record.iommu_group,
        'driver': record.driver,
        'type': device.device_type,
        'rule': device.classification.rule.text
        if device.classification.rule else None,
        'sriov': sriov,
        'physfn': record.physfn,
        'unit_of': device.unit_of,
        'mdev_types': [
            {'type_id': m.type_id, 'name': m.name, 'device_api': m.device_api,
             'available_instances': m.available_instances}
            for m in record.mdev_types],
        'facts': record.facts,
        'aer': record.aer,
        'problems': record.problems,
    }
    if device.device_type or device.units:
        result['units'] = [_unit_record(unit, pools[unit.key],
                                        judged.get(unit.address))
                           for unit in device.units]
    return result


def _health_cell(units: list[dict]) -> str:
    sick = [unit for unit in units if unit['health'] != 'healthy']
    if not units:
        return '-'
    if not sick:
        return 'healthy'
    return (f'{len(sick)} unhealthy: '
            + '; '.join(sorted({unit['health_reason'] for unit in sick})))


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(cell.ljust(width) for cell, width
                               in zip(row, widths, strict=True)).rstrip()
                     for row in rows) + '\n'


def _vgpu_table(records: list[dict]) -> str:
    """One row per vGPU unit: the VF, its GPU, the profile, whether the
    vGPU exists (or could be made now), and the pool."""
    rows = [('VF', 'PARENT GPU', 'PROFILE', 'TYPE', 'STATE', 'MDEV',
             'POOL')]
    for rec in records:
        for unit in rec.get('units', []):
            if unit.get('vgpu_profile') is not None:
                rows.append((unit['address'], unit['parent_address'],
                             unit['vgpu_profile'],
                             f"{unit['vgpu_interface']} {unit['vgpu_type']}",
                             unit['vgpu_state'], unit['mdev_uuid'] or '-',
                             unit['pool']))
    return '' if len(rows) == 1 else '\n' + _columns(rows)


def _table(records: list[dict]) -> str:
    """One row per device; VFs are counted in their PF's row, not listed.
    vGPU units follow in a table of their own."""
    header = ('ADDRESS', 'TYPE', 'IDS', 'NAME', 'NUMA', 'UNITS', 'HEALTH',
              'POOLS')
    rows = [header]
    for rec in records:
        if rec['unit_of']:
            continue
        units = rec.get('units', [])
        name = ' '.join(filter(None, (rec['vendor_name'], rec['product_name'])))
        rows.append((
            rec['address'], rec['type'] or '-',
            f"{rec['vendor_id']}:{rec['product_id']} ({rec['class']})",
            name[:48] or '-',
            '-' if rec['numa_node'] is None else str(rec['numa_node']),
            str(len(units)) if 'units' in rec else '-',
            _health_cell(units),
            ', '.join(sorted({unit['pool'] for unit in units})) or '-'))
    return _columns(rows) + _vgpu_table(records)


def run(conf: cfg.ConfigOpts, command) -> int:
    """Print the devices under the sysfs root; 0, or 1/2 with one-line errors."""
    sysfs_root = command.sysfs_root or conf.agent.sysfs_root
    if not os.path.isdir(sysfs_root):
        print(f'cyborg-agent discover: sysfs root {sysfs_root} is not a '
              'directory', file=sys.stderr)
        return 1
    try:
        devices = discovery.discover_devices(conf, sysfs_root)
    except rules.InvalidRule as exc:
        print(f'cyborg-agent discover: {exc}', file=sys.stderr)
        return 2
    pools = tree.provider_of_units(tree.build(
        hostname.root_provider_name(conf), None,
        inventory.units_of(devices), conf.agent.pool_by_numa))
    judged = health.Tracker(conf.agent.health_recovery_cycles).update(
        health.observe(devices, discovery.plugin_problems(devices, conf)))
    records = [device_record(device, pools, judged) for device in devices]
    if command.format == 'json':
        sys.stdout.write(json.dumps(records, indent=2) + '\n')
    else:
        sys.stdout.write(_table(records))
    return 0
