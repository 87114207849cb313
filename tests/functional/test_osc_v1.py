"""``openstack accelerator ...``: the real executable against a running API.

A story per test, as an operator types it: create and show records, list a
host's accelerators in every output format, change a spec (and lose a race
cleanly), attach and detach, and get one-line errors naming the problem.
"""
import uuid

import pytest

from tests.functional import cli_runner
from tests.functional.cli_runner import openstack


@pytest.fixture
def osc(api):
    """``openstack <args>`` against the test API through --os-endpoint."""
    def run(*args: str) -> cli_runner.Result:
        return openstack(*cli_runner.noauth_args(api.url), *args)
    return run


def assert_one_line_error(result: cli_runner.Result, *words: str) -> None:
    assert result.returncode != 0, result.stdout
    assert result.stdout == ''
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert 'Traceback' not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_create_then_show_and_list_as_json(osc, unique_name):
    created = osc('accelerator', 'create', unique_name,
                  '--spec', 'device_type=FPGA', '--spec', 'num=1',
                  '--spec', 'vendor_id=8086', '--spec', 'product_id=0b30',
                  '--spec', 'acc_capability={"bitstream": "crc32"}',
                  '-f', 'json')
    assert created.returncode == 0, created.stderr
    record = created.json()
    assert record['name'] == unique_name
    assert record['acc_specs'] == {
        'device_type': 'FPGA', 'num': 1, 'vendor_id': '8086',
        'product_id': '0b30', 'acc_capability': {'bitstream': 'crc32'},
        'remote': 0}

    shown = osc('accelerator', 'show', record['uuid'], '-f', 'json')
    assert shown.returncode == 0, shown.stderr
    assert shown.json()['acc_specs'] == record['acc_specs']

    listed = osc('accelerator', 'list', '--type', 'FPGA', '-f', 'json')
    rows = {row['UUID']: row for row in listed.json()}
    assert rows[record['uuid']]['Name'] == unique_name
    assert rows[record['uuid']]['Type'] == 'FPGA'


def test_create_with_the_uuid_given(osc, unique_name):
    wanted = str(uuid.uuid4())
    created = osc('accelerator', 'create', unique_name, '--uuid', wanted,
                  '-f', 'value', '-c', 'uuid')
    assert created.stdout.strip() == wanted, created.stderr


def test_list_a_hosts_accelerators_in_every_format(osc, gpus, unique_name):
    by_uuid = {g['uuid']: g for g in gpus}

    as_json = osc('accelerator', 'list', '--host', unique_name, '--long',
                  '-f', 'json')
    assert as_json.returncode == 0, as_json.stderr
    rows = as_json.json()
    assert {r['UUID'] for r in rows} == set(by_uuid)
    for row in rows:
        assert row['Host'] == unique_name
        assert row['Type'] == 'GPU'
        assert row['PCI Address'] == by_uuid[row['UUID']]['pci_address']
        assert (row['Vendor ID'], row['Product ID']) == ('10de', '1eb8')
        assert row['Attached To'] is None

    as_value = osc('accelerator', 'list', '--host', unique_name,
                   '-f', 'value', '-c', 'UUID')
    assert set(as_value.stdout.split()) == set(by_uuid)

    as_yaml = osc('accelerator', 'list', '--host', unique_name, '-f', 'yaml')
    assert as_yaml.stdout.count('Host: ' + unique_name) == 2

    as_table = osc('accelerator', 'list', '--host', unique_name)
    for accelerator in gpus:
        assert accelerator['uuid'] in as_table.stdout

    other = osc('accelerator', 'list', '--host', unique_name, '--type', 'AI',
                '-f', 'json')
    assert other.json() == []


def test_set_spec_keeps_other_keys_and_bumps_the_revision(osc, unique_name):
    record = osc('accelerator', 'create', unique_name, '--spec', 'num=1',
                 '--spec', 'device_type=CRYPTO', '-f', 'json').json()

    changed = osc('accelerator', 'set', record['uuid'], '--spec', 'num=4',
                  '-f', 'json')

    assert changed.returncode == 0, changed.stderr
    after = changed.json()
    assert after['acc_specs']['num'] == 4
    assert after['acc_specs']['device_type'] == 'CRYPTO'
    assert after['revision'] == record['revision'] + 1


def test_set_spec_file_replaces_the_spec(osc, unique_name, tmp_path):
    record = osc('accelerator', 'create', unique_name, '--spec', 'num=1',
                 '--spec', 'acc_type=old', '-f', 'json').json()
    spec_file = tmp_path / 'spec.yaml'
    spec_file.write_text('device_type: AI\nnum: 2\n'
                         'acc_capability: {int8_tops: 400}\n')

    changed = osc('accelerator', 'set', record['uuid'],
                  '--spec-file', str(spec_file), '-f', 'json')

    assert changed.returncode == 0, changed.stderr
    specs = changed.json()['acc_specs']
    assert specs['device_type'] == 'AI'
    assert specs['acc_capability'] == {'int8_tops': 400}
    assert 'acc_type' not in specs


def test_set_with_a_stale_revision_is_refused_in_one_line(osc, unique_name):
    record = osc('accelerator', 'create', unique_name, '--spec', 'num=1',
                 '-f', 'json').json()
    seen = str(record['revision'])
    # Someone else changes it after we read it.
    assert osc('accelerator', 'set', record['uuid'],
               '--spec', 'num=2').returncode == 0

    stale = osc('accelerator', 'set', record['uuid'], '--spec', 'num=3',
                '--revision', seen)

    assert_one_line_error(stale, 'someone else changed it', 'HTTP 409')
    shown = osc('accelerator', 'show', record['uuid'], '-f', 'json').json()
    assert shown['acc_specs']['num'] == 2


def test_attach_to_an_instance_then_detach(osc, gpus, placement):
    accelerator = gpus[0]
    instance = str(uuid.uuid4())

    attached = osc('accelerator', 'attach', accelerator['uuid'],
                   '--instance', instance, '-f', 'json')

    assert attached.returncode == 0, attached.stderr
    attachment = attached.json()['attachment']
    assert attachment['instance_uuid'] == instance
    assert attachment['state'] == 'attaching'
    claim = placement.get(f'/allocations/{instance}')['allocations']
    assert claim[accelerator['pool_provider_uuid']]['resources'] == {
        'PGPU': 1}
    listed = osc('accelerator', 'list', '--host', accelerator['host'],
                 '-f', 'json').json()
    held = {r['UUID']: r['Attached To'] for r in listed}
    assert held[accelerator['uuid']] == f'instance {instance}'

    detached = osc('accelerator', 'detach', accelerator['uuid'])

    assert detached.returncode == 0, detached.stderr
    assert detached.stdout == ''
    shown = osc('accelerator', 'show', accelerator['uuid'], '-f', 'json')
    # Detaching until the host's agent confirms it.
    assert shown.json()['attachment']['state'] == 'detaching'


def test_list_an_instances_units_and_how_it_got_each(osc, api, gpus,
                                                     placement):
    """One unit from the flavor (Nova's allocation, bound), one attached."""
    flavor_unit = gpus[0]
    instance = str(uuid.uuid4())
    placement.put(f'/allocations/{instance}', {
        'allocations': {flavor_unit['pool_provider_uuid']: {
            'resources': {flavor_unit['resource_class']: 1}}},
        'consumer_generation': None, 'project_id': 'p1', 'user_id': 'u1',
        'consumer_type': 'INSTANCE'}, microversion='1.38')
    bound = api.client().put(f'/instances/{instance}/bindings',
                             json={'host': flavor_unit['host']})
    [bound_unit] = bound.json()['bindings']
    other = ({a['uuid'] for a in gpus} - {bound_unit['uuid']}).pop()
    assert osc('accelerator', 'attach', other,
               '--instance', instance).returncode == 0

    listed = osc('accelerator', 'list', '--instance', instance, '-f', 'json')

    assert listed.returncode == 0, listed.stderr
    via = {row['UUID']: (row['Attached To'], row['Via'])
           for row in listed.json()}
    assert via == {bound_unit['uuid']: (f'instance {instance}', 'flavor'),
                   other: (f'instance {instance}', 'acc-attach')}
    # Where each unit is: its NUMA node and the socket of that node.
    assert {(row['NUMA Node'], row['Socket']) for row in listed.json()} == {
        (0, 0)}
    table = osc('accelerator', 'list', '--instance', instance)
    assert 'Via' in table.stdout and 'acc-attach' in table.stdout
    assert 'Via' not in osc('accelerator', 'list', '--host',
                            flavor_unit['host']).stdout


def test_attach_to_a_host_and_a_second_attach_is_refused(osc, gpus):
    accelerator = gpus[1]
    attached = osc('accelerator', 'attach', accelerator['uuid'],
                   '--host', accelerator['host'], '-f', 'json')
    assert attached.returncode == 0, attached.stderr
    assert attached.json()['attachment']['host'] == accelerator['host']

    again = osc('accelerator', 'attach', accelerator['uuid'],
                '--instance', str(uuid.uuid4()))

    assert_one_line_error(again, accelerator['uuid'], 'HTTP 409')


def test_attach_needs_exactly_one_target(osc, gpus):
    neither = osc('accelerator', 'attach', gpus[0]['uuid'])
    assert neither.returncode != 0
    assert '--instance' in neither.stderr and '--host' in neither.stderr


def test_unknown_accelerator_is_a_one_line_error(osc):
    missing = str(uuid.uuid4())
    for command in (['show', missing], ['detach', missing],
                    ['set', missing, '--spec', 'num=1'],
                    ['attach', missing, '--host', 'h1']):
        result = osc('accelerator', *command)
        assert_one_line_error(result, missing, 'HTTP 404')


def test_bad_uuid_is_a_one_line_error_naming_it(osc):
    result = osc('accelerator', 'show', 'not-a-uuid')
    assert_one_line_error(result, "'not-a-uuid'", 'HTTP 400')


def test_bad_spec_input_names_the_problem(osc, unique_name, tmp_path):
    not_json = osc('accelerator', 'create', unique_name, '--spec', 'num=two')
    assert_one_line_error(not_json, 'num', 'JSON')
    no_equals = osc('accelerator', 'create', unique_name, '--spec', 'num')
    assert_one_line_error(no_equals, 'KEY=VALUE')
    rejected = osc('accelerator', 'create', unique_name,
                   '--spec', 'vendor_id=nvidia')
    assert_one_line_error(rejected, 'vendor_id', 'HTTP 400')
    nothing = osc('accelerator', 'set', str(uuid.uuid4()))
    assert_one_line_error(nothing, '--spec')
    absent = tmp_path / 'absent.yaml'
    no_file = osc('accelerator', 'set', str(uuid.uuid4()),
                  '--spec-file', str(absent))
    assert_one_line_error(no_file, str(absent))
    listed = osc('accelerator', 'list', '-f', 'value', '-c', 'Name')
    assert unique_name not in listed.stdout.split()


def test_duplicate_name_is_refused(osc, unique_name):
    assert osc('accelerator', 'create', unique_name).returncode == 0
    again = osc('accelerator', 'create', unique_name)
    assert_one_line_error(again, unique_name, 'HTTP 409')


def test_unreachable_api_is_a_one_line_error():
    result = openstack(*cli_runner.noauth_args('http://127.0.0.1:9'),
                       'accelerator', 'list')
    assert_one_line_error(result, 'Cannot reach the accelerator API')
