"""The CLI plugin's own logic: spec input, error lines, rows, the version flag."""
import argparse

import pytest
import requests

from cyborg_placement.osc import client
from cyborg_placement.osc import plugin
from cyborg_placement.osc import specs
from cyborg_placement.osc.v1 import accelerators


@pytest.mark.parametrize('text, expected', [
    ('num=2', ('num', 2)),
    ('remote=1', ('remote', 1)),
    ('acc_capability={"fp16": true}', ('acc_capability', {'fp16': True})),
    ('vendor_id=8086', ('vendor_id', '8086')),
    ('device_type=GPU', ('device_type', 'GPU')),
    ('acc_type=a=b', ('acc_type', 'a=b')),
    ('note=', ('note', '')),
])
def test_spec_pairs_are_typed_as_the_api_expects(text, expected):
    assert specs.parse_pair(text) == expected


@pytest.mark.parametrize('text, named', [
    ('num', 'KEY=VALUE'), ('=1', 'KEY=VALUE'), ('num=two', "'two'"),
    ('acc_capability={fp16}', 'acc_capability'),
])
def test_bad_spec_pairs_name_the_problem(text, named):
    with pytest.raises(specs.SpecError, match=named):
        specs.parse_pair(text)


def test_later_spec_pairs_win():
    assert specs.parse_pairs(['num=1', 'num=3']) == {'num': 3}
    assert specs.parse_pairs(None) == {}


def test_spec_file_in_yaml_json_or_wrapped(tmp_path):
    yaml_file = tmp_path / 's.yaml'
    yaml_file.write_text("device_type: GPU\nvendor_id: '10de'\nnum: 2\n")
    json_file = tmp_path / 's.json'
    json_file.write_text('{"acc_specs": {"num": 1}}')
    assert specs.load_file(str(yaml_file)) == {
        'device_type': 'GPU', 'vendor_id': '10de', 'num': 2}
    assert specs.load_file(str(json_file)) == {'num': 1}


@pytest.mark.parametrize('content, named', [
    ('[1, 2]', 'found list'), ('{unclosed', 'not JSON or YAML'),
    ('', 'found NoneType'),
])
def test_bad_spec_files_name_the_file_and_problem(tmp_path, content, named):
    path = tmp_path / 'spec.yaml'
    path.write_text(content)
    with pytest.raises(specs.SpecError, match=named) as caught:
        specs.load_file(str(path))
    assert str(path) in str(caught.value)
    assert '\n' not in str(caught.value)


def test_missing_spec_file_is_named(tmp_path):
    with pytest.raises(specs.SpecError, match='No such file'):
        specs.load_file(str(tmp_path / 'absent.yaml'))


def _response(status: int, body: bytes, reason: str = 'Conflict'):
    response = requests.Response()
    response.status_code = status
    response.reason = reason
    response._content = body
    return response


def test_error_line_is_the_apis_detail_and_code():
    error = client.error_from_response(_response(409, (
        b'{"errors": [{"status": 409, "title": "Conflict", "detail": '
        b'"Accelerator x is at revision \\"2\\",\\n not \\"1\\".", '
        b'"code": "accelerator.update.conflict", "request_id": "req-1"}]}')))
    assert str(error) == ('Accelerator x is at revision "2", not "1". '
                          '(HTTP 409, accelerator.update.conflict)')
    assert (error.status, error.code) == (409, 'accelerator.update.conflict')


def test_error_line_without_an_openstack_body():
    error = client.error_from_response(
        _response(502, b'<html>\nBad gateway\n</html>', 'Bad Gateway'))
    assert str(error) == '<html> Bad gateway </html> (HTTP 502)'
    empty = client.error_from_response(_response(503, b'', 'Unavailable'))
    assert str(empty) == 'Unavailable (HTTP 503)'


ATTACHED = {
    'uuid': 'u1', 'name': 'gpu-0', 'host': 'node1', 'state': 'available',
    'pci_address': '0000:3b:00.0',
    'acc_specs': {'device_type': 'GPU', 'vendor_id': '10de',
                  'product_id': '1eb8', 'num': 1},
    'attachment': {'instance_uuid': 'i1', 'host': None, 'state': 'attached',
                   'holds_accelerator': True},
    'revision': 3, 'driver': 'nvidia', 'health': 'healthy',
    'health_reason': None, 'health_since': '2026-01-01T00:00:00Z',
    'disabled': False, 'disabled_reason': None, 'disabled_at': None,
}


def test_list_rows_short_and_long():
    assert accelerators.list_row(ATTACHED, long=False) == (
        'u1', 'gpu-0', 'node1', 'GPU', 'available', 'instance i1',
        'healthy')
    long_row = accelerators.list_row(ATTACHED, long=True)
    assert long_row[7:11] == ('0000:3b:00.0', '10de', '1eb8', 'attached')
    assert long_row[11].machine_readable() == ATTACHED['acc_specs']
    assert long_row[12:] == (None, None, None, None, None)


#: An mdev vGPU unit (one profile of a VF of an A100), as an admin sees it.
VGPU = {**ATTACHED, 'pci_address': '0000:41:00.4', 'vgpu_interface': 'mdev',
        'vgpu_type': 'nvidia-692', 'vgpu_profile': 'GRID A100-4C',
        'parent_address': '0000:41:00.0',
        'mdev_uuid': 'c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e80'}


def test_a_vgpu_shows_its_profile_parent_and_mdev():
    assert accelerators.list_row(VGPU, long=True)[14:] == (
        'GRID A100-4C', '0000:41:00.0', VGPU['mdev_uuid'])
    names, values = accelerators.show_columns(VGPU)
    assert names[3:9] == ('pci_address', 'vgpu_profile', 'vgpu_type',
                          'vgpu_interface', 'parent_address', 'mdev_uuid')
    assert values[3:9] == ('0000:41:00.4', 'GRID A100-4C', 'nvidia-692',
                           'mdev', '0000:41:00.0', VGPU['mdev_uuid'])
    seen = {k: v for k, v in VGPU.items()
            if k not in ('pci_address', 'parent_address', 'mdev_uuid')}
    assert accelerators.list_row(seen, long=True)[14:] == (
        'GRID A100-4C', '(hidden)', '(hidden)')


def test_health_column_says_why_a_unit_is_not_offered():
    sick = {**ATTACHED, 'health': 'unhealthy', 'health_reason': 'AER',
            'health_since': '2026-01-01T00:00:00Z', 'disabled': True,
            'disabled_reason': 'RMA', 'disabled_at': '2026-01-02T00:00:00Z'}
    assert accelerators.health(sick) == 'unhealthy, disabled'
    assert accelerators.list_row(sick, long=True)[12:14] == (
        'AER', '2026-01-01T00:00:00Z')
    off = {**sick, 'health': 'healthy'}
    assert accelerators.health(off) == 'healthy, disabled'
    assert accelerators.why(off) == ('RMA', '2026-01-02T00:00:00Z')


def test_via_says_how_an_instance_got_the_unit():
    def shown(claim, holds=True):
        return {**ATTACHED, 'attachment': {**ATTACHED['attachment'],
                                           'claim': claim,
                                           'holds_accelerator': holds}}
    assert accelerators.via(shown('existing_allocation')) == 'flavor'
    assert accelerators.via(shown('api')) == 'acc-attach'
    assert accelerators.via(shown('api', holds=False)) is None
    assert accelerators.via({**ATTACHED, 'attachment': None}) is None


def test_an_instances_units_show_their_numa_node_and_socket():
    bound = {**ATTACHED, 'numa_node': 1, 'socket': 0,
             'attachment': {**ATTACHED['attachment'],
                            'claim': 'existing_allocation'}}
    assert accelerators.instance_cells(bound) == ('flavor', 1, 0)
    # A unit whose firmware gives no NUMA node (or an older API).
    assert accelerators.instance_cells(ATTACHED)[1:] == (None, None)


def test_attached_to_host_or_nothing():
    host_held = {**ATTACHED, 'attachment': {'host': 'node1', 'state': 'attaching',
                                            'instance_uuid': None,
                                            'holds_accelerator': True}}
    assert accelerators.attached_to(host_held) == 'host node1'
    assert accelerators.attached_to({**ATTACHED, 'attachment': None}) is None


def test_an_ended_attachment_holds_nothing():
    for ended in ('detached', 'attach_failed'):
        shown = {**ATTACHED, 'attachment': {**ATTACHED['attachment'],
                                            'state': ended,
                                            'holds_accelerator': False}}
        assert accelerators.attached_to(shown) is None


def test_show_columns_put_known_fields_first_and_keep_the_rest():
    names, values = accelerators.show_columns(ATTACHED)
    assert names == ('uuid', 'name', 'host', 'pci_address', 'state',
                     'health', 'health_reason', 'health_since', 'disabled',
                     'disabled_reason', 'disabled_at', 'acc_specs',
                     'attachment', 'revision', 'driver')
    assert values[11].machine_readable() == ATTACHED['acc_specs']
    assert values[-1] == 'nvidia'


#: Another project's unit, as the API shows it to a project member: no
#: name, host, PCI address or pool, and of the attachment only its state.
HIDDEN_HOLDER = {
    'uuid': 'u2', 'state': 'available', 'resource_class': 'PGPU',
    'numa_node': 0, 'driver': 'vfio-pci',
    'acc_specs': {'device_type': 'GPU', 'vendor_id': '10de'},
    'attachment': {'accelerator_uuid': 'u2', 'state': 'attaching',
                   'holds_accelerator': True},
    'revision': 1, 'health': 'healthy', 'health_since': None,
    'disabled': False, 'disabled_reason': None, 'disabled_at': None,
}


def test_fields_the_api_left_out_show_as_hidden():
    assert accelerators.list_row(HIDDEN_HOLDER, long=True)[:7] == (
        'u2', '(hidden)', '(hidden)', 'GPU', 'available', '(hidden)',
        'healthy')
    assert accelerators.via(HIDDEN_HOLDER) == '(hidden)'
    names, values = accelerators.show_columns(HIDDEN_HOLDER)
    shown = dict(zip(names, values, strict=True))
    assert [shown[n] for n in ('name', 'host', 'pci_address',
                               'health_reason')] == ['(hidden)'] * 4
    assert shown['attachment'].machine_readable() == HIDDEN_HOLDER[
        'attachment']
    ended = {**HIDDEN_HOLDER, 'attachment': {
        **HIDDEN_HOLDER['attachment'], 'state': 'detached',
        'holds_accelerator': False}}
    assert accelerators.attached_to(ended) is None


@pytest.mark.parametrize('given, sent', [('3', '"3"'), ('"3"', '"3"'),
                                         (' 7 ', '"7"')])
def test_revision_becomes_the_etag_the_api_sends(given, sent):
    assert accelerators.etag_of(given) == sent


@pytest.mark.parametrize('version, sent', [('1', '1.0'), ('1.0', '1.0'),
                                           ('1.2', '1.2'), ('2', '1.0'),
                                           ('2.3', '1.0')])
def test_major_version_means_its_first_microversion(version, sent):
    assert plugin.microversion(version) == sent


def test_version_flag_of_another_plugin_is_reused_not_redeclared():
    parser = argparse.ArgumentParser()
    parser.add_argument('--os-accelerator-api-version')  # Cyborg's
    assert plugin.build_option_parser(parser) is parser  # no clash
    assert parser.parse_args(
        ['--os-accelerator-api-version', '1.0']
    ).os_accelerator_api_version == '1.0'


def test_openstackclient_owns_the_version_flag_here():
    # python-openstackclient >= 10.5 ships Cyborg's commands in-tree, with
    # the same option: our plugin must leave it to that module.
    assert plugin._flag_declared_elsewhere()
    parser = argparse.ArgumentParser()
    plugin.build_option_parser(parser)
    assert plugin.VERSION_FLAG not in parser._option_string_actions


def test_plugin_module_names_do_not_clash_with_cyborg():
    assert plugin.API_NAME != 'accelerator'
    assert plugin.API_VERSION_OPTION == 'os_accelerator_api_version'
    assert plugin.check_api_version('2.3') is True


@pytest.mark.parametrize('endpoint, root', [
    ('http://api:6666/v2', 'http://api:6666'),
    ('http://api:6666/v2/', 'http://api:6666'),
    ('http://api:6666', 'http://api:6666'),
    ('http://api/accelerator/v2', 'http://api/accelerator'),
    ('http://api:6666/v21', 'http://api:6666/v21'),
    (None, None)])
def test_a_catalog_entry_of_the_v2_subset_names_our_root(endpoint, root):
    assert plugin.api_root(endpoint) == root
