"""Enrichment plugins, with a real ``nvidia-smi`` executable on PATH.

The hardware stand-in is a shell script answering the exact query the plugin
sends with what nvidia-smi prints on an H100 host; anything else makes it fail
as the real tool does with bad arguments.
"""
import os
import pathlib
import stat

import pytest

from cyborg_agent import discovery
from cyborg_agent.discovery import plugins
from cyborg_agent.discovery.plugins import nvidia
from tests.conftest import make_conf
from tools.harness import catalog

H100_CSV = """\
00000000:18:00.0, GPU-5c7d3e2a-9f1b-4c6e-8a3d-2b7f1e9c4a60, 81559, Enabled
00000000:28:00.0, GPU-0e8b1f63-7a2c-4d95-b1e0-93c4d7a85f12, 81559, Disabled
"""
T4_CSV = """\
00000000:AF:00.0, GPU-b2d94c1e-3f57-48a0-9e6b-7c15a8f03d2e, 15360, [N/A]
"""
SCRIPT = """#!/bin/sh
if [ "$1" != "--query-gpu=pci.bus_id,uuid,memory.total,mig.mode.current" ] \\
   || [ "$2" != "--format=csv,noheader,nounits" ]; then
    echo "Invalid combination of input arguments." >&2
    exit 2
fi
{body}
"""


def install_nvidia_smi(directory: pathlib.Path, body: str) -> pathlib.Path:
    directory.mkdir(exist_ok=True)
    path = directory / 'nvidia-smi'
    path.write_text(SCRIPT.format(body=body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def printing(csv: str) -> str:
    return f"cat <<'EOF'\n{csv}EOF"


@pytest.fixture
def host(sysfs):
    return sysfs.add_all([
        catalog.nvidia_h100_sxm('0000:18:00.0'),
        catalog.nvidia_h100_sxm('0000:28:00.0', numa_node=1),
        catalog.nvidia_t4('0000:af:00.0'),
        catalog.habana_gaudi2('0000:b1:00.0'),
    ])


def discover(host, tmp_path, **agent):
    conf = make_conf(tmp_path, {'agent': {'sysfs_root': host.root, **agent}})
    return {d.record.address: d.record.facts
            for d in discovery.discover_devices(conf)}


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == 'WARNING']


def test_the_nvidia_plugin_is_loaded_through_stevedore(conf):
    assert [type(p) for p in plugins.load(conf)] == [
        nvidia.NvidiaSmiEnricher]


def test_facts_from_nvidia_smi(host, tmp_path, bin_dir, caplog):
    install_nvidia_smi(bin_dir, printing(H100_CSV + T4_CSV))

    facts = discover(host, tmp_path)

    assert facts['0000:18:00.0'] == {
        'gpu_uuid': 'GPU-5c7d3e2a-9f1b-4c6e-8a3d-2b7f1e9c4a60',
        'memory_total_mib': 81559, 'mig_mode': 'Enabled'}
    assert facts['0000:28:00.0']['mig_mode'] == 'Disabled'
    assert facts['0000:af:00.0'] == {
        'gpu_uuid': 'GPU-b2d94c1e-3f57-48a0-9e6b-7c15a8f03d2e',
        'memory_total_mib': 15360, 'mig_mode': None}
    assert facts['0000:b1:00.0'] == {}
    assert warnings(caplog) == []


def test_absent_nvidia_smi_changes_nothing(host, tmp_path, bin_dir, caplog):
    facts = discover(host, tmp_path)

    assert all(value == {} for value in facts.values())
    assert len(facts) == 4
    assert warnings(caplog) == []


def test_a_hanging_nvidia_smi_is_one_warning(host, tmp_path, bin_dir, caplog):
    install_nvidia_smi(bin_dir, 'exec sleep 30')

    facts = discover(host, tmp_path, enrichment_timeout=0.5)

    assert all(value == {} for value in facts.values())
    [warning] = warnings(caplog)
    assert 'nvidia-smi did not answer within 0.5 s' in warning


def test_a_failing_nvidia_smi_is_one_warning(host, tmp_path, bin_dir, caplog):
    install_nvidia_smi(bin_dir, (
        "echo \"NVIDIA-SMI has failed because it couldn't communicate with "
        "the NVIDIA driver.\"\nexit 9"))

    facts = discover(host, tmp_path)

    assert all(value == {} for value in facts.values())
    [warning] = warnings(caplog)
    assert 'exited with status 9' in warning
    assert "couldn't communicate with the NVIDIA driver" in warning


def test_a_garbled_line_is_one_warning_and_the_rest_is_used(
        host, tmp_path, bin_dir, caplog):
    install_nvidia_smi(bin_dir, printing(
        H100_CSV + 'No devices were found, really\n'
        '00000000:AF:00.0, GPU-x, lots, Disabled\n'))

    facts = discover(host, tmp_path)

    assert facts['0000:18:00.0']['memory_total_mib'] == 81559
    assert facts['0000:af:00.0'] == {}
    [warning] = warnings(caplog)
    assert 'No devices were found, really' in warning
    assert 'GPU-x, lots' in warning


def test_a_plugin_that_cannot_run_is_one_warning(host, tmp_path, bin_dir,
                                                 caplog):
    path = install_nvidia_smi(bin_dir, '')
    path.write_text('#!/nonexistent/interpreter\n')

    facts = discover(host, tmp_path)

    assert all(value == {} for value in facts.values())
    [warning] = warnings(caplog)
    assert 'could not be run' in warning


def test_the_daemon_path_does_not_run_plugins(host, tmp_path, bin_dir):
    """discover_units runs every cycle: only sysfs, no external tools."""
    marker = tmp_path / 'ran'
    install_nvidia_smi(bin_dir, f'touch {marker}\n' + printing(H100_CSV))
    conf = make_conf(tmp_path, {'agent': {'sysfs_root': host.root}})

    assert len(discovery.discover_units(conf)) == 4
    assert not os.path.exists(marker)
    discover(host, tmp_path)
    assert os.path.exists(marker)


@pytest.mark.parametrize('bus_id, address', [
    ('00000000:18:00.0', '0000:18:00.0'),
    ('00000001:AF:00.1', '0001:af:00.1'),
    ('0000:3b:00.0', '0000:3b:00.0'),
    ('garbage', None),
    ('00000000:zz:00.0', None),
])
def test_bus_ids_become_sysfs_addresses(bus_id, address):
    assert nvidia.pci_address(bus_id) == address
