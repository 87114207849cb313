"""Which CPU socket each NUMA node is on, from sysfs.

A unit's ``numa_node`` says which node its PCI root port hangs off; which
socket (CPU package) that node belongs to is what Nova's ``socket`` NUMA
affinity policy compares. The kernel lists a node's CPUs in
``devices/system/node/node<N>/cpulist`` and each CPU's package in
``devices/system/cpu/cpu<M>/topology/physical_package_id``. A node without
CPUs (memory only, as CXL or HBM nodes) has no socket. As everywhere in
discovery, bad data is skipped with one warning, never raised.
"""
import os
import re

from oslo_log import log as logging

from cyborg_agent.discovery import sysfs

LOG = logging.getLogger(__name__)

_NODE = re.compile(r'^node(\d+)$')


def parse_cpulist(text: str) -> list[int]:
    """The kernel's list format (``0-3,8,10-11``) as CPU numbers; empty for
    an empty list (a node without CPUs). Raises ValueError when malformed."""
    cpus = []
    for part in filter(None, text.strip().split(',')):
        first, sep, last = part.partition('-')
        low, high = int(first), int(last) if sep else int(first)
        if low > high:
            raise ValueError(part)
        cpus.extend(range(low, high + 1))
    return cpus


def _node_socket(sysfs_root: str, node_dir: str) -> int | None:
    path = os.path.join(node_dir, 'cpulist')
    text = sysfs.read_text(path, optional=True)
    if text is None:
        return None
    try:
        cpus = parse_cpulist(text)
    except ValueError:
        LOG.warning('sysfs: %s: malformed CPU list %r; skipped', path, text)
        return None
    packages = set()
    for cpu in cpus:
        package = sysfs.read_int(os.path.join(
            sysfs_root, 'devices', 'system', 'cpu', f'cpu{cpu}', 'topology',
            'physical_package_id'), optional=True)
        if package is not None and package >= 0:
            packages.add(package)
    if len(packages) > 1:
        LOG.warning('sysfs: %s: CPUs of packages %s on one node; its socket '
                    'is taken as %d', path, sorted(packages), min(packages))
    return min(packages) if packages else None


def node_sockets(sysfs_root: str) -> dict[int, int]:
    """NUMA node -> socket, for each node with CPUs whose package is known.

    Empty on a kernel without NUMA (no ``devices/system/node``).
    """
    nodes = os.path.join(sysfs_root, 'devices', 'system', 'node')
    try:
        entries = os.listdir(nodes)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        LOG.warning('sysfs: %s: cannot list NUMA nodes (%s); skipped', nodes,
                    exc.strerror or exc)
        return {}
    sockets = {}
    for entry in sorted(entries):
        match = _NODE.match(entry)
        if match is None:
            continue
        socket = _node_socket(sysfs_root, os.path.join(nodes, entry))
        if socket is not None:
            sockets[int(match.group(1))] = socket
    return sockets
