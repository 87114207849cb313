"""How discovery time grows with the number of PCI functions on a host.

Builds sysfs trees of 100, 1,000 and 10,000 functions from real ids (H100, T4,
Gaudi2, PAC Arria 10, QAT 4xxx with 16 VFs, plus the NICs, NVMe drives, virtio
and bridges that share real hosts) in a temporary directory, then times:

- ``discover_units`` (what the daemon runs every cycle: sysfs + classification),
- ``discover_devices`` with names and plugins (what ``cyborg-agent discover``
  runs; pci.ids parsing is a fixed cost, so it weighs most on small hosts),
- ``discover_units`` again on the same tree without its ``uevent`` files, the
  baseline: every id and the driver then come from their own files, as
  before discovery read ``uevent`` (the units must be the same).

Prints seconds, functions per second, the speed-up ``uevent`` gives and
ratios against the 100-function run.
Usage: python benchmarks/discovery.py [--repeat N] [SIZE ...]
"""
import argparse
import itertools
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from oslo_config import cfg  # noqa: E402

from cyborg_agent import discovery  # noqa: E402
from cyborg_placement import conf as cyborg_conf  # noqa: E402
from tools.harness import catalog  # noqa: E402
from tools.harness import run_facts  # noqa: E402
from tools.harness import sysfs_tree  # noqa: E402

SIZES = (100, 1000, 10000)


def _bus_block(domain: int, bus: int) -> list[sysfs_tree.PciFunction]:
    """25 functions on one bus: a QAT PF with 16 VFs and 8 other devices."""
    def at(slot: int) -> str:
        return f'{domain:04x}:{bus:02x}:{slot:02x}.0'
    numa = bus % 2
    return [
        catalog.intel_qat_4xxx(at(0), numa, vfs=16),  # VFs in slots 1-2
        catalog.nvidia_h100_sxm(at(3), numa, iommu_group=bus),
        catalog.nvidia_t4(at(4), numa),
        catalog.habana_gaudi2(at(5), numa),
        catalog.intel_pac_arria10(at(6), numa),
        catalog.mellanox_connectx6_dx(at(7), numa),
        catalog.samsung_nvme(at(8), numa),
        catalog.virtio_net(at(9)),
        catalog.host_bridge(at(10)),
    ]


def host_functions(size: int) -> list[sysfs_tree.PciFunction]:
    """Top-level functions totalling exactly ``size`` PCI functions (VFs too)."""
    functions, count = [], 0
    for block in itertools.count():
        for function in _bus_block(block // 256, block % 256):
            function.vfs = function.vfs[:size - count - 1]
            functions.append(function)
            count += 1 + len(function.vfs)
            if count == size:
                return functions


def make_conf(sysfs_root: str) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    cyborg_conf.register_opts(conf)
    conf([], project='cyborg', default_config_files=[])
    conf.set_override('sysfs_root', sysfs_root, group='agent')
    return conf


def best_time(action, repeat: int) -> tuple[float, object]:
    best, result = float('inf'), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(size: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix='cyborg-bench-sysfs-') as root:
        start = time.perf_counter()
        sysfs_tree.build(root, host_functions(size))
        build = time.perf_counter() - start
        conf = make_conf(root)
        units_s, units = best_time(lambda: discovery.discover_units(conf),
                                   repeat)
        devices_s, devices = best_time(
            lambda: discovery.discover_devices(conf), repeat)
        for uevent in pathlib.Path(root).glob('bus/pci/devices/*/uevent'):
            uevent.unlink()
        files_s, from_files = best_time(
            lambda: discovery.discover_units(conf), repeat)
    assert len(devices) == size, (len(devices), size)
    assert from_files == units
    return {'size': size, 'build': build, 'units': len(units),
            'units_s': units_s, 'devices_s': devices_s, 'files_s': files_s}


def report(results: list[dict]) -> None:
    base = results[0]
    print(f'{"functions":>9} {"units":>6} {"build s":>8} | '
          f'{"scan s":>8} {"func/s":>9} {"time x":>7} {"rate x":>7} | '
          f'{"discover s":>10} {"func/s":>9} {"rate x":>7} | '
          f'{"files s":>8} {"uevent x":>8}')
    for r in results:
        rate = r['size'] / r['units_s']
        base_rate = base['size'] / base['units_s']
        cli_rate = r['size'] / r['devices_s']
        base_cli_rate = base['size'] / base['devices_s']
        print(f'{r["size"]:>9} {r["units"]:>6} {r["build"]:>8.2f} | '
              f'{r["units_s"]:>8.4f} {rate:>9.0f} '
              f'{r["units_s"] / base["units_s"]:>7.1f} '
              f'{rate / base_rate:>7.2f} | '
              f'{r["devices_s"]:>10.4f} {cli_rate:>9.0f} '
              f'{cli_rate / base_cli_rate:>7.2f} | '
              f'{r["files_s"]:>8.4f} {r["files_s"] / r["units_s"]:>8.2f}')
    print('scan = discover_units (daemon cycle); discover = discover_devices '
          'with pci.ids names and plugins (cyborg-agent discover); files = '
          'scan of the same tree without uevent files; uevent x = files s / '
          'scan s; best of the runs; ratios against '
          f'{base["size"]} functions.')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=3,
                        help='Runs per size; the best is reported.')
    parser.add_argument('sizes', nargs='*', type=int, default=list(SIZES))
    args = parser.parse_args(argv)
    print(run_facts.header())
    report([measure(size, args.repeat) for size in args.sizes])
    return 0


if __name__ == '__main__':
    sys.exit(main())
