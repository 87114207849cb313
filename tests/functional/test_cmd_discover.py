"""The real ``cyborg-agent discover`` executable, as operators and scripts run it.

On a tree built from real ids (with operator rules and an ``nvidia-smi`` on
PATH), on broken data, on bad rules, and on this machine's own ``/sys``. Scripts
parse stdout: it must hold the JSON list and nothing else.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.unit.test_discovery_plugins import H100_CSV
from tests.unit.test_discovery_plugins import install_nvidia_smi
from tests.unit.test_discovery_plugins import printing
from tools.harness import catalog
from tools.harness import nvidia_smi
from tools.harness import sysfs_tree

EXECUTABLE = shutil.which('cyborg-agent',
                          path=os.path.dirname(sys.executable))
RULES = [
    '{"vendor_id": "15b3", "product_id": "101d", "device_type": "NIC", '
    '"traits": ["CUSTOM_SMARTNIC"]}',
    '{"address": "0000:6b:02.*", "exclude": true}',
]


def run(tmp_path, *args, rules=(), path=None):
    config = tmp_path / 'cyborg.conf'
    config.write_text('[agent]\nresource_provider_name = host1\n' + ''.join(
        f'device_rule = {rule}\n' for rule in rules))
    env = dict(os.environ, PATH=path or os.environ['PATH'])
    return subprocess.run(
        [EXECUTABLE, '--config-file', str(config), 'discover', *args],
        capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture
def host(tmp_path) -> pathlib.Path:
    root = tmp_path / 'sys'
    sysfs_tree.build(root, catalog.gpu_server(gpus=2, qat_pfs=1, qat_vfs=16)
                     + [catalog.nvidia_t4('0000:af:00.0', numa_node=1),
                        catalog.intel_pac_arria10('0000:b0:00.0'),
                        catalog.habana_gaudi2('0000:b1:00.0'),
                        catalog.mellanox_connectx6_dx('0000:3b:00.0'),
                        catalog.virtio_net('0000:00:03.0')])
    return root


def test_the_executable_is_installed():
    assert EXECUTABLE, 'cyborg-agent is installed next to this python'


def test_json_on_a_built_host(tmp_path, host):
    result = run(tmp_path, '--sysfs-root', str(host), '--format', 'json',
                 rules=RULES)

    assert result.returncode == 0, result.stderr
    records = {r['address']: r for r in json.loads(result.stdout)}
    assert len(records) == 2 + 2 + 17 + 1 + 5  # every function looked at
    gpu = records['0000:18:00.0']
    assert (gpu['vendor_id'], gpu['product_id'], gpu['class'], gpu['type'],
            gpu['numa_node']) == ('10de', '2330', '030200', 'GPU', 0)
    assert gpu['units'] == [{
        'address': '0000:18:00.0', 'vendor_id': '10de', 'product_id': '2330',
        'numa_node': 0, 'socket': None, 'driver': 'nvidia',
        'resource_class': 'PGPU', 'pool': 'host1_GPU_10DE_2330',
        'health': 'healthy', 'health_reason': None}]
    assert gpu['aer'] == {'aer_dev_fatal': 0, 'aer_dev_nonfatal': 0}
    assert gpu['vendor_name'] == 'NVIDIA Corporation'
    qat = records['0000:6b:00.0']
    assert qat['type'] == 'CRYPTO'
    assert qat['sriov']['total_vfs'] == qat['sriov']['num_vfs'] == 16
    # 16 VFs, 8 of which ("0000:6b:02.*") an operator rule set aside.
    assert len(qat['units']) == 8
    assert {u['pool'] for u in qat['units']} == {'host1_CRYPTO_8086_4941'}
    assert {u['product_id'] for u in qat['units']} == {'4941'}
    assert records['0000:6b:01.0']['unit_of'] == '0000:6b:00.0'
    assert records['0000:6b:02.0']['type'] is None
    t4 = records['0000:af:00.0']
    assert [m['type_id'] for m in t4['mdev_types']] == ['nvidia-222',
                                                        'nvidia-230']
    assert records['0000:b0:00.0']['type'] == 'FPGA'
    assert records['0000:b1:00.0']['type'] == 'AI'
    nic = records['0000:3b:00.0']
    assert nic['type'] == 'NIC'
    [nic_unit] = nic['units']
    assert nic_unit['pool'].startswith('host1_NIC_15B3_101D_')
    for address in ('0000:00:00.0', '0000:03:00.0', '0000:00:03.0',
                    '0000:c1:00.0'):
        assert records[address]['type'] is None
        assert 'units' not in records[address]


def test_nvidia_smi_facts_are_shown(tmp_path, host):
    bin_dir = tmp_path / 'bin'
    install_nvidia_smi(bin_dir, printing(H100_CSV))

    result = run(tmp_path, '--sysfs-root', str(host), '--format', 'json',
                 path=f'{bin_dir}:{os.environ["PATH"]}')

    assert result.returncode == 0, result.stderr
    records = {r['address']: r for r in json.loads(result.stdout)}
    assert records['0000:18:00.0']['facts'] == {
        'gpu_uuid': 'GPU-5c7d3e2a-9f1b-4c6e-8a3d-2b7f1e9c4a60',
        'memory_total_mib': 81559, 'mig_mode': 'Enabled'}
    assert records['0000:af:00.0']['facts'] == {}


def test_health_is_shown(tmp_path, host):
    """What one look finds: a GPU nvidia-smi reports in an error state, a
    QAT PF whose config space reads all ones (its VFs with it)."""
    bin_dir = tmp_path / 'bin'
    nvidia_smi.install(bin_dir, [
        nvidia_smi.GpuState('0000:18:00.0', pending_retirement=True),
        nvidia_smi.GpuState('0000:28:00.0')])
    sysfs_tree.SysfsTree(host).stop_answering('0000:6b:00.0')
    path = f'{bin_dir}:{os.environ["PATH"]}'

    result = run(tmp_path, '--sysfs-root', str(host), '--format', 'json',
                 path=path)

    assert result.returncode == 0, result.stderr
    records = {r['address']: r for r in json.loads(result.stdout)}
    [sick] = records['0000:18:00.0']['units']
    assert (sick['health'], sick['health_reason']) == (
        'unhealthy', 'nvidia-smi: retired pages pending')
    assert records['0000:18:00.0']['facts']['gpu_uuid']
    assert records['0000:28:00.0']['units'][0]['health'] == 'healthy'
    qat = records['0000:6b:00.0']
    assert qat['problems'] == ['config space reads all ones: the function '
                               'does not answer']
    assert {(u['health'], u['health_reason']) for u in qat['units']} == {
        ('unhealthy', 'PF 0000:6b:00.0: config space reads all ones: the '
                      'function does not answer')}

    table = run(tmp_path, '--sysfs-root', str(host), path=path).stdout
    [gpu_row] = [line for line in table.splitlines()
                 if line.startswith('0000:18:00.0')]
    assert '1 unhealthy: nvidia-smi: retired pages pending' in gpu_row
    assert 'HEALTH' in table.splitlines()[0]


def test_broken_data_goes_to_stderr_and_the_rest_to_stdout(tmp_path, host):
    vendor = host / 'bus' / 'pci' / 'devices' / '0000:b1:00.0' / 'vendor'
    vendor.write_text('0xgaudi\n')
    # Read from the file only where uevent lacks it.
    sysfs_tree.SysfsTree(host).drop_uevent_keys('0000:b1:00.0', 'PCI_ID')

    result = run(tmp_path, '--sysfs-root', str(host), '--format', 'json')

    assert result.returncode == 0
    records = {r['address']: r for r in json.loads(result.stdout)}
    assert '0000:b1:00.0' not in records
    assert records['0000:b0:00.0']['type'] == 'FPGA'
    assert str(vendor) in result.stderr
    assert 'Traceback' not in result.stderr


def test_table(tmp_path, host):
    result = run(tmp_path, '--sysfs-root', str(host))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ['ADDRESS', 'TYPE', 'IDS', 'NAME', 'NUMA',
                                'UNITS', 'HEALTH', 'POOLS']
    qat = next(line for line in lines if line.startswith('0000:6b:00.0'))
    assert ' CRYPTO ' in qat and ' 16 ' in qat and ' healthy ' in qat
    assert qat.endswith('host1_CRYPTO_8086_4941')
    assert not any(line.startswith('0000:6b:01.0') for line in lines)


def test_a_bad_rule_is_a_one_line_error(tmp_path, host):
    result = run(tmp_path, '--sysfs-root', str(host), '--format', 'json',
                 rules=['{"vendor_id": "15b3", "traits": ["smartnic"]}'])

    assert result.returncode == 2
    assert result.stdout == ''
    assert result.stderr.strip().splitlines() == [
        'cyborg-agent discover: [agent] device_rule #1 \'{"vendor_id": '
        '"15b3", "traits": ["smartnic"]}\': trait \'smartnic\' is not a '
        'CUSTOM_ trait name (upper-case letters, digits and _ only)']


def test_a_missing_sysfs_root_is_an_error(tmp_path):
    result = run(tmp_path, '--sysfs-root', str(tmp_path / 'nowhere'))

    assert result.returncode == 1
    assert 'nowhere is not a directory' in result.stderr
    assert result.stdout == ''


def test_this_machines_own_sys(tmp_path):
    result = run(tmp_path, '--format', 'json')

    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert {r['address'] for r in records} == set(
        os.listdir('/sys/bus/pci/devices'))
    for record in records:
        if record['vendor_id'] == '1af4' or record['class'].startswith('06'):
            assert record['type'] is None, record
