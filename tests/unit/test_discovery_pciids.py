"""Names from the system's pci.ids, for people reading ``discover``."""
from cyborg_agent import discovery
from cyborg_agent.discovery import pciids
from tests.conftest import make_conf
from tools.harness import catalog

SYSTEM_DATABASE = pciids.find_database()


def names_of(tree, tmp_path, **agent):
    conf = make_conf(tmp_path, {'agent': {'sysfs_root': tree.root, **agent}})
    return {d.record.address: (d.record.vendor_name, d.record.product_name)
            for d in discovery.discover_devices(conf)}


def test_names_from_the_system_database(sysfs, tmp_path):
    assert SYSTEM_DATABASE, 'the test machine has pci.ids (Debian: pciutils)'
    sysfs.add_all([catalog.nvidia_t4('0000:af:00.0'),
                   catalog.aspeed_bmc_vga('0000:03:00.0'),
                   catalog.intel_pac_arria10('0000:b0:00.0')])

    names = names_of(sysfs, tmp_path)

    assert names['0000:af:00.0'] == ('NVIDIA Corporation',
                                     'TU104GL [Tesla T4]')
    assert names['0000:03:00.0'][0] == 'ASPEED Technology, Inc.'
    assert names['0000:b0:00.0'] == ('Intel Corporation',
                                     'PAC with Intel Arria 10 GX FPGA')


def test_a_database_of_our_own(sysfs, tmp_path):
    database = tmp_path / 'pci.ids'
    database.write_text(
        '# comment\n'
        '10de  NVIDIA Corporation\n'
        '\t1eb8  TU104GL [Tesla T4]\n'
        '\t\t10de 12a2  T4 16GB\n'
        '8086  Intel Corporation\n'
        'C 03  Display controller\n'
        '\t02  3D controller\n')
    sysfs.add_all([catalog.nvidia_t4('0000:af:00.0'),
                   catalog.habana_gaudi2('0000:b1:00.0')])

    names = names_of(sysfs, tmp_path, pci_ids_path=database)

    assert names == {'0000:af:00.0': ('NVIDIA Corporation', 'TU104GL [Tesla T4]'),
                     '0000:b1:00.0': (None, None)}


def test_without_a_database_names_are_left_out(sysfs, tmp_path, caplog):
    sysfs.add(catalog.nvidia_t4('0000:af:00.0'))

    names = names_of(sysfs, tmp_path, pci_ids_path=tmp_path / 'absent.ids')

    assert names == {'0000:af:00.0': (None, None)}
    assert [r for r in caplog.records if r.levelname == 'WARNING'] == []
