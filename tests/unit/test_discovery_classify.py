"""Which functions are accelerators: the design's table, then operator rules."""
import pytest

from cyborg_agent import discovery
from cyborg_agent.discovery import rules
from tests.conftest import make_conf
from tools.harness import catalog
from tools.harness.sysfs_tree import PciFunction


def devices_of(tree, tmp_path, device_rules=()):
    agent = {'sysfs_root': tree.root}
    if device_rules:  # a multi-valued option is one line per value
        agent['device_rule'] = '\ndevice_rule = '.join(device_rules)
    conf = make_conf(tmp_path, {'agent': agent})
    return {d.record.address: d
            for d in discovery.discover_devices(conf, enrich=False)}


def types_of(tree, tmp_path, device_rules=()):
    return {address: device.device_type for address, device
            in devices_of(tree, tmp_path, device_rules).items()}


def test_default_table_on_real_devices(sysfs, tmp_path):
    sysfs.add_all([
        catalog.host_bridge('0000:00:00.0'),
        catalog.aspeed_bmc_vga('0000:03:00.0'),
        catalog.nvidia_h100_sxm('0000:18:00.0'),
        catalog.intel_qat_4xxx('0000:6b:00.0', vfs=0),
        catalog.nvidia_t4('0000:af:00.0'),
        catalog.intel_pac_arria10('0000:b0:00.0'),
        catalog.habana_gaudi2('0000:b1:00.0'),
        catalog.mellanox_connectx6_dx('0000:3b:00.0'),
        catalog.virtio_net('0000:00:03.0'),
        catalog.samsung_nvme('0000:c1:00.0'),
    ])
    assert types_of(sysfs, tmp_path) == {
        '0000:00:00.0': None,      # host bridge
        '0000:00:03.0': None,      # virtio-net
        '0000:03:00.0': None,      # ASPEED BMC VGA
        '0000:18:00.0': 'GPU',     # H100 SXM, 3D controller
        '0000:3b:00.0': None,      # ConnectX-6 Dx: a NIC only by rule
        '0000:6b:00.0': 'CRYPTO',  # QAT 4xxx PF
        '0000:af:00.0': 'GPU',     # T4
        '0000:b0:00.0': 'FPGA',    # PAC Arria 10
        '0000:b1:00.0': 'AI',      # Gaudi2
        '0000:c1:00.0': None,      # NVMe
    }


@pytest.mark.parametrize('vendor, product, pci_class, expected', [
    ('10de', '2684', '030000', 'GPU'),   # NVIDIA VGA (RTX 4090)
    ('1002', '740f', '038000', 'GPU'),   # AMD Instinct MI210, display other
    ('8086', '56c0', '038000', None),    # Intel Flex 170 as "other display"
    ('1002', '73bf', '030000', 'GPU'),   # AMD Radeon RX 6900 XT
    ('102b', '0536', '030000', None),    # Matrox G200eW3 BMC VGA
    ('10ee', '5000', '120000', 'FPGA'),  # Xilinx Alveo U200
    ('8086', '0b30', '120000', 'FPGA'),  # Intel N3000
    ('8086', '0b2b', '120000', 'FPGA'),  # Intel N3000 (FPGA management)
    ('1e52', '0100', '120000', 'AI'),    # Tenstorrent
    ('8086', '37c8', '0b4000', 'CRYPTO'),  # QAT C62x PF
    ('8086', '37c9', '0b4000', 'CRYPTO'),  # QAT C62x VF
    ('8086', '0435', '0b4000', 'CRYPTO'),  # QAT DH895xCC
    ('1234', '0001', '0b4000', None),    # unknown co-processor
    ('1234', '0001', '100000', 'CRYPTO'),  # network/computing encryption
    ('1234', '0002', '108000', 'CRYPTO'),  # other encryption controller
    ('1234', '0003', '020000', None),    # Ethernet
    ('1af4', '1045', 'ffff00', None),    # virtio balloon, class ffff
])
def test_table_rows(sysfs, tmp_path, vendor, product, pci_class, expected):
    sysfs.add(PciFunction('0000:5e:00.0', vendor, product, pci_class,
                          vendor, '0000', '01', 0, None))
    assert types_of(sysfs, tmp_path) == {'0000:5e:00.0': expected}


@pytest.fixture
def host(sysfs):
    return sysfs.add_all([
        catalog.aspeed_bmc_vga('0000:03:00.0'),
        catalog.nvidia_h100_sxm('0000:18:00.0'),
        catalog.nvidia_h100_sxm('0000:28:00.0'),
        catalog.mellanox_connectx6_dx('0000:3b:00.0'),
        catalog.mellanox_connectx6_dx('0000:3b:00.1'),
        catalog.intel_qat_4xxx('0000:6b:00.0', vfs=4),
    ])


def test_rule_makes_a_smartnic_with_traits(host, tmp_path):
    devices = devices_of(host, tmp_path, [
        '{"vendor_id": "15b3", "product_id": "101d", "device_type": "NIC",'
        ' "traits": ["CUSTOM_SMARTNIC", "CUSTOM_BLUEFIELD_CAPABLE"]}'])
    nic = devices['0000:3b:00.1']
    assert nic.device_type == 'NIC'
    [unit] = nic.units
    assert unit.extra_traits == {'CUSTOM_SMARTNIC', 'CUSTOM_BLUEFIELD_CAPABLE'}
    assert devices['0000:18:00.0'].units[0].extra_traits == frozenset()


def test_exclude_by_address_glob(host, tmp_path):
    types = types_of(host, tmp_path, ['{"address": "0000:28:*", '
                                      '"exclude": true}'])
    assert types['0000:28:00.0'] is None
    assert types['0000:18:00.0'] == 'GPU'


def test_include_by_class_prefix(host, tmp_path):
    types = types_of(host, tmp_path, ['{"class": "0300", "device_type": "GPU"}'])
    assert types['0000:03:00.0'] == 'GPU'


def test_resource_class_keeps_the_default_type(host, tmp_path):
    devices = devices_of(host, tmp_path, [
        '{"vendor_id": "10de", "resource_class": "CUSTOM_H100_80GB"}'])
    gpu = devices['0000:18:00.0']
    assert gpu.device_type == 'GPU'
    assert gpu.units[0].resource_class == 'CUSTOM_H100_80GB'
    # A rule without device_type on a non-accelerator leaves it out.
    assert devices['0000:3b:00.0'].device_type is None


def test_first_matching_rule_wins(host, tmp_path):
    types = types_of(host, tmp_path, [
        '{"address": "0000:18:00.0", "device_type": "AI"}',
        '{"vendor_id": "10de", "exclude": true}'])
    assert types['0000:18:00.0'] == 'AI'
    assert types['0000:28:00.0'] is None


def test_rules_come_before_the_table(host, tmp_path):
    types = types_of(host, tmp_path, ['{"class": "0b40", "exclude": true}'])
    assert types['0000:6b:00.0'] is None
    assert not any(devices_of(host, tmp_path, [
        '{"class": "0b40", "exclude": true}'])['0000:6b:00.0'].units)


def test_vfs_follow_their_pf_unless_a_rule_names_them(host, tmp_path):
    devices = devices_of(host, tmp_path, [
        '{"address": "0000:6b:01.3", "exclude": true}',
        '{"vendor_id": "8086", "product_id": "4940",'
        ' "traits": ["CUSTOM_QAT_GEN4"]}'])
    qat = devices['0000:6b:00.0']
    assert [u.address for u in qat.units] == [
        '0000:6b:01.0', '0000:6b:01.1', '0000:6b:01.2']
    assert all(u.extra_traits == {'CUSTOM_QAT_GEN4'} for u in qat.units)
    assert devices['0000:6b:01.3'].device_type is None


@pytest.mark.parametrize('text, complaint', [
    ('{"vendor_id": "15b3"', 'not valid JSON'),
    ('["15b3"]', 'must be a JSON object'),
    ('{"vendor_id": "15b3", "device_typ": "NIC"}', 'unknown key(s) device_typ'),
    ('{"device_type": "NIC"}', 'at least one of vendor_id'),
    ('{"vendor_id": "15b3"}', 'at least one of exclude'),
    ('{"vendor_id": "nvidia", "device_type": "GPU"}', 'vendor_id must be'),
    ('{"product_id": "101d0", "device_type": "NIC"}', 'product_id must be'),
    ('{"class": "020", "device_type": "NIC"}', 'class must be'),
    ('{"address": "3b:00.0 ", "device_type": "NIC"}', 'address must be'),
    ('{"vendor_id": "15b3", "device_type": "SMARTNIC"}',
     'device_type must be one of GPU, FPGA, CRYPTO, AI, NIC'),
    ('{"vendor_id": "15b3", "traits": ["SMARTNIC"]}',
     "trait 'SMARTNIC' is not a CUSTOM_ trait name"),
    ('{"vendor_id": "15b3", "traits": ["CUSTOM_smart-nic"]}',
     "trait 'CUSTOM_smart-nic' is not a CUSTOM_ trait name"),
    ('{"vendor_id": "15b3", "traits": []}', 'non-empty list'),
    ('{"vendor_id": "15b3", "resource_class": "NIC"}', 'resource_class must'),
    ('{"vendor_id": "15b3", "exclude": false}', 'exclude can only be true'),
    ('{"vendor_id": "15b3", "exclude": true, "device_type": "NIC"}',
     'exclude cannot be combined'),
])
def test_bad_rules_are_refused_with_the_reason(host, tmp_path, text,
                                               complaint):
    good = '{"vendor_id": "10de", "device_type": "GPU"}'
    with pytest.raises(rules.InvalidRule) as raised:
        devices_of(host, tmp_path, [good, text])
    message = str(raised.value)
    assert message.startswith('[agent] device_rule #2 ')
    assert text in message
    assert complaint in message


def test_rule_values_are_normalised():
    rule = rules.parse_rule('{"vendor_id": "0x15B3", "product_id": "1d",'
                            ' "class": "0x02", "traits": "CUSTOM_A, CUSTOM_B",'
                            ' "resource_class": "PGPU"}')
    assert (rule.match.vendor_id, rule.match.product_id, rule.match.pci_class) == (
        '15b3', '001d', '02')
    assert rule.traits == {'CUSTOM_A', 'CUSTOM_B'}
    assert rule.resource_class == 'PGPU'
