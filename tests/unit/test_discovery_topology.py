"""Each unit's CPU socket, from its NUMA node's CPUs in sysfs."""
import pytest

from cyborg_agent import discovery
from cyborg_agent import report
from cyborg_agent.discovery import topology
from cyborg_agent.publish import tree as tree_mod
from tests.conftest import make_conf
from tools.harness import catalog
from tools.harness import sysfs_tree


def units_by_address(tree, tmp_path) -> dict:
    conf = make_conf(tmp_path, {'agent': {'sysfs_root': tree.root}})
    return {u.address: u for u in discovery.discover_units(conf)}


def two_sockets(tree, nodes_per_socket: int = 1) -> None:
    """Two sockets of 4 CPUs per node; with 2 nodes per socket (SNC / NPS2)
    nodes 0 and 1 are socket 0, nodes 2 and 3 socket 1."""
    for node in range(2 * nodes_per_socket):
        tree.add_node(node, list(range(4 * node, 4 * node + 4)),
                      package=node // nodes_per_socket)


@pytest.mark.parametrize('cpus, text', [
    ([0, 1, 2, 3], '0-3'), ([0, 2, 3, 4, 8], '0,2-4,8'), ([], '')])
def test_cpulist_round_trip(cpus, text):
    assert sysfs_tree.cpulist(cpus) == text
    assert topology.parse_cpulist(text + '\n') == cpus


@pytest.mark.parametrize('text', ['0-', 'a', '3-1'])
def test_malformed_cpulist_is_refused(text):
    with pytest.raises(ValueError):
        topology.parse_cpulist(text)


def test_each_gpu_gets_the_socket_of_its_node(sysfs, tmp_path):
    two_sockets(sysfs, nodes_per_socket=2)
    sysfs.add(catalog.nvidia_h100_sxm('0000:18:00.0', numa_node=0))
    sysfs.add(catalog.nvidia_h100_sxm('0000:38:00.0', numa_node=1))
    sysfs.add(catalog.nvidia_h100_sxm('0000:9a:00.0', numa_node=3))

    units = units_by_address(sysfs, tmp_path)

    assert {a: (u.numa_node, u.socket) for a, u in units.items()} == {
        '0000:18:00.0': (0, 0), '0000:38:00.0': (1, 0),
        '0000:9a:00.0': (3, 1)}


def test_vfs_get_their_pf_socket(sysfs, tmp_path):
    two_sockets(sysfs)
    sysfs.add(catalog.intel_qat_4xxx('0000:6b:00.0', numa_node=1, vfs=4))

    units = units_by_address(sysfs, tmp_path)

    assert {(u.numa_node, u.socket) for u in units.values()} == {(1, 1)}


def test_no_socket_without_numa_node_or_without_cpus(sysfs, tmp_path,
                                                     caplog):
    two_sockets(sysfs)
    sysfs.add_node(2, [], package=0)  # memory only (CXL, HBM)
    sysfs.add(catalog.nvidia_h100_sxm('0000:18:00.0', numa_node=-1))
    sysfs.add(catalog.nvidia_h100_sxm('0000:28:00.0', numa_node=2))
    sysfs.add(catalog.nvidia_h100_sxm('0000:38:00.0', numa_node=5))

    units = units_by_address(sysfs, tmp_path)

    assert {a: (u.numa_node, u.socket) for a, u in units.items()} == {
        '0000:18:00.0': (None, None), '0000:28:00.0': (2, None),
        '0000:38:00.0': (5, None)}
    assert caplog.records == []


def test_a_kernel_without_numa_gives_no_sockets(sysfs, tmp_path):
    sysfs.add(catalog.nvidia_h100_sxm('0000:18:00.0', numa_node=0))

    assert units_by_address(sysfs, tmp_path)['0000:18:00.0'].socket is None


def test_a_malformed_cpulist_is_skipped_with_a_warning(sysfs, caplog):
    two_sockets(sysfs)
    (sysfs.root / 'devices/system/node/node1/cpulist').write_text('4-x\n')

    assert topology.node_sockets(str(sysfs.root)) == {0: 0}
    assert 'node1/cpulist: malformed CPU list' in caplog.text


def test_the_agent_reports_the_socket(sysfs, tmp_path):
    two_sockets(sysfs)
    sysfs.add(catalog.nvidia_h100_sxm('0000:38:00.0', numa_node=1))
    [unit] = units_by_address(sysfs, tmp_path).values()
    published = tree_mod.build('cn1', None, [unit])

    [entry] = report.build_report([unit], published)['accelerators']

    assert (entry['numa_node'], entry['socket']) == (1, 1)
