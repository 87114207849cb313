"""What a guest's libvirt definition holds, read from its XML.

Both the tests of our Nova driver (in the test process) and Nova's own
services (tools/harness/nova_services.py, in a process of its own) check
which PCI devices a guest got; neither may import the other's side, so the
reading lives here, with nothing but the standard library.
"""
import xml.etree.ElementTree as ET


def hostdev_sources(xml: str, managed: str | None = None) -> list[str]:
    """PCI hostdev source addresses of a domain XML, as DDDD:BB:SS.F; with
    ``managed`` ('yes', 'no': a vendor-VFIO vGPU's VF, which libvirt leaves
    on its driver) only those whose ``managed`` attribute says so."""
    found = []
    for hostdev in ET.fromstring(xml).iterfind(
            "./devices/hostdev[@type='pci']"):
        addr = hostdev.find('source/address')
        if managed is not None and hostdev.get('managed') != managed:
            continue
        parts = [int(addr.get(k), 16)
                 for k in ('domain', 'bus', 'slot', 'function')]
        found.append('{:04x}:{:02x}:{:02x}.{:x}'.format(*parts))
    return sorted(found)


def pinned_cpus(xml: str) -> set[int]:
    """Host CPUs the guest's vCPUs are pinned to (``cputune/vcpupin``)."""
    found = set()
    for pin in ET.fromstring(xml).iterfind('./cputune/vcpupin'):
        for part in pin.get('cpuset').split(','):
            first, _, last = part.partition('-')
            found.update(range(int(first), int(last or first) + 1))
    return found


def memory_nodes(xml: str) -> set[int]:
    """Host NUMA nodes the guest's memory is bound to
    (``numatune/memnode@nodeset``)."""
    return {int(node) for memnode in ET.fromstring(xml).iterfind(
        './numatune/memnode') for node in memnode.get('nodeset').split(',')}


def mdev_sources(xml: str) -> list[str]:
    """The UUIDs of a domain XML's mdev hostdevs (vGPUs)."""
    return sorted(addr.get('uuid') for addr in ET.fromstring(xml).iterfind(
        "./devices/hostdev[@type='mdev']/source/address"))
