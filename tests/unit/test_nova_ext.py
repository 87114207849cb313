"""The pure parts of nova_ext: addresses, accelerators, ARQs, config, alias.

Nothing here imports Nova (tests/functional/test_virt_libvirt_driver.py explains
why Nova runs in its own process).
"""
import dataclasses
import importlib.util
import sys
import xml.etree.ElementTree as ET

from oslo_config import cfg
import pytest

from nova_ext import accelerator
from nova_ext import bindings
from nova_ext import conf as ext_conf
from nova_ext import libvirt_hostdev
from nova_ext.cmd import compute


def test_pci_address_round_trip_and_libvirt_spelling_compare_equal():
    address = accelerator.PciAddress.parse('0000:6B:01.7')
    assert str(address) == '0000:6b:01.7'
    assert address == accelerator.PciAddress.from_libvirt(
        '0x0000', '0x6b', '0x01', '0x7')
    assert address.hex_fields() == {
        'domain': '0000', 'bus': '6b', 'device': '01', 'function': '7'}


@pytest.mark.parametrize('text', ['6b:01.0', '0000:6b:01.8', '0000:6b:20.0',
                                  '0000:6b:01', '', None])
def test_malformed_addresses_name_the_problem(text):
    with pytest.raises(accelerator.HostdevError) as caught:
        accelerator.PciAddress.parse(text)
    assert caught.value.kind == accelerator.BAD_ADDRESS
    assert 'DDDD:BB:SS.F' in caught.value.reason


@dataclasses.dataclass
class ApiRecord:
    pci_address: str
    uuid: str


def test_accelerator_accepts_mappings_and_objects():
    from_dict = accelerator.Accelerator.coerce(
        {'pci_address': '0000:6b:01.0', 'physfn': '0000:6b:00.0',
         'uuid': 'u1', 'acc_specs': {}})
    assert str(from_dict.physfn) == '0000:6b:00.0'
    from_object = accelerator.Accelerator.coerce(
        ApiRecord('0000:6b:01.0', 'u1'))
    assert from_object.pci_address == from_dict.pci_address
    assert from_object.physfn is None
    assert accelerator.Accelerator.coerce(from_dict) is from_dict


def test_accelerator_without_address_is_refused():
    with pytest.raises(accelerator.HostdevError):
        accelerator.Accelerator.coerce({'uuid': 'u1'})


def test_error_keeps_libvirts_reason_and_code():
    error = accelerator.HostdevError(accelerator.LIBVIRT_REFUSED,
                                     'no IOMMU', 67)
    assert (error.kind, error.reason, error.libvirt_code) == (
        'libvirt_refused', 'no IOMMU', 67)
    assert 'no IOMMU' in str(error)


def test_hostdev_xml_is_a_managed_pci_hostdev():
    xml = libvirt_hostdev.hostdev_xml(
        accelerator.Accelerator.coerce({'pci_address': '0000:6b:01.0'}))
    hostdev = ET.fromstring(xml)
    assert hostdev.attrib == {'mode': 'subsystem', 'type': 'pci',
                              'managed': 'yes'}
    assert hostdev.find('source/address').attrib == {
        'domain': '0x0000', 'bus': '0x6b', 'slot': '0x01',
        'function': '0x0'}


def test_binding_becomes_novas_pci_arq():
    arq = bindings.to_arq({'uuid': 'a1', 'pci_address': '0000:6b:01.0'})
    assert arq == {'uuid': 'a1', 'attach_handle_type': 'PCI',
                   'attach_handle_info': {'domain': '0000', 'bus': '6b',
                                          'device': '01', 'function': '0'},
                   'managed': True}


def test_vgpu_bindings_become_an_unmanaged_pci_arq_or_an_mdev_arq():
    vfio = bindings.to_arq({'uuid': 'a1', 'pci_address': '0000:41:00.4',
                            'vgpu_interface': 'vfio', 'vgpu_type': '1414'})
    assert (vfio['attach_handle_type'], bindings.managed(vfio)) == (
        'PCI', False)
    mdev = bindings.to_arq({'uuid': 'a2', 'pci_address': '0000:81:00.4',
                            'vgpu_interface': 'mdev',
                            'mdev_uuid': 'C4B2E8A5-0F3E-4D0A-9D1E-3A4B5C6D7E80'})
    assert (mdev['attach_handle_type'], mdev['attach_handle_uuid']) == (
        'MDEV', 'c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e80')
    assert bindings.device_of(mdev) != bindings.device_of(vfio)
    with pytest.raises(accelerator.HostdevError, match='no mdev_uuid'):
        bindings.to_arq({'pci_address': '0000:81:00.4',
                         'vgpu_interface': 'mdev'})


def test_vgpu_hostdevs_are_unmanaged_pci_or_mdev():
    vfio = ET.fromstring(libvirt_hostdev.hostdev_xml(
        accelerator.Accelerator.coerce({'pci_address': '0000:41:00.4',
                                        'vgpu_interface': 'vfio'})))
    assert (vfio.get('type'), vfio.get('managed')) == ('pci', 'no')
    mdev = ET.fromstring(libvirt_hostdev.hostdev_xml(
        accelerator.Accelerator.coerce({
            'pci_address': '0000:81:00.4', 'vgpu_interface': 'mdev',
            'mdev_uuid': 'c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e80'})))
    assert mdev.attrib == {'mode': 'subsystem', 'type': 'mdev',
                           'managed': 'no', 'model': 'vfio-pci'}
    assert mdev.find('source/address').attrib == {
        'uuid': 'c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e80'}


def test_no_auth_type_means_no_accelerator_api():
    conf = cfg.ConfigOpts()
    ext_conf.register_opts(conf)
    ext_conf.register_opts(conf)  # nova-compute may import it twice
    conf([], project='nova', default_config_files=[])
    assert conf.accelerator_api.service_type == 'accelerator'
    assert ext_conf.load_adapter(conf) is None


def test_driver_alias_answers_only_its_own_name():
    compute.install_driver_alias()
    compute.install_driver_alias()
    finders = [f for f in sys.meta_path
               if isinstance(f, compute._AliasFinder)]
    assert len(finders) == 1
    assert finders[0].find_spec('nova.virt.libvirt', None) is None
    spec = importlib.util.find_spec(compute.ALIAS)
    assert spec is not None and spec.loader is finders[0]
    assert compute.COMPUTE_DRIVER.startswith(
        compute.ALIAS.removeprefix('nova.virt.') + '.')
