"""Cyborg's ``openstack accelerator ...`` commands and ours, in one
installation, through the real ``openstack`` executable against a real
``cyborg-api``, with one endpoint ending in /v2 (as Nova's catalog entry).

python-openstackclient ships Cyborg's commands in-tree and ignores
python-cyborgclient's copies of them (``IGNORED_MODULES``), so the device,
device profile, arq and deployable commands run openstackclient's code
through openstacksdk; ours run our plugin against the same server's root.
``accelerator arq bind`` is left out: it looks the server up in Nova.
"""
import pytest

from tests.functional import cli_runner
from tests.functional.cli_runner import openstack
from tests.inprocess import scenario


@pytest.fixture
def osc(api):
    """``openstack <args>`` with --os-endpoint .../v2, at 2.3."""
    def run(*args: str) -> cli_runner.Result:
        result = openstack(*cli_runner.noauth_args(api.url + '/v2'),
                           '--os-accelerator-api-version', '2.3', *args)
        assert 'Traceback' not in result.stderr, result.stderr
        return result
    return run


def _json(result: cli_runner.Result):
    assert result.returncode == 0, result.stderr
    return result.json()


def test_device_profile_commands(osc, unique_name):
    made = _json(osc('accelerator', 'device', 'profile', 'create',
                     unique_name, '--group', 'resources:PGPU=1,'
                     'trait:CUSTOM_ACCEL_VENDOR_10DE=required',
                     '--description', 'one GPU', '-f', 'json'))
    assert made['name'] == unique_name
    listed = _json(osc('accelerator', 'device', 'profile', 'list',
                       '-f', 'json'))
    assert unique_name in [row['name'] for row in listed]
    shown = _json(osc('accelerator', 'device', 'profile', 'show',
                      made['uuid'], '-f', 'json'))
    assert shown['groups'] == [{'resources:PGPU': '1',
                                'trait:CUSTOM_ACCEL_VENDOR_10DE': 'required'}]
    taken = osc('accelerator', 'device', 'profile', 'create', unique_name,
                '--group', 'resources:PGPU=1')
    assert taken.returncode != 0 and unique_name in taken.stderr
    deleted = osc('accelerator', 'device', 'profile', 'delete', made['uuid'])
    assert deleted.returncode == 0, deleted.stderr
    assert osc('accelerator', 'device', 'profile', 'show',
               made['uuid']).returncode != 0


def test_device_and_deployable_commands(osc, gpus):
    units = [g['uuid'] for g in gpus]
    listed = _json(osc('accelerator', 'device', 'list', '-f', 'json'))
    by_uuid = {row['uuid']: row for row in listed}
    assert set(units) <= set(by_uuid)
    assert by_uuid[units[0]]['status'] == 'enabled'
    assert osc('accelerator', 'device', 'disable',
               units[0]).returncode == 0
    shown = _json(osc('accelerator', 'device', 'show', units[0],
                      '-f', 'json'))
    assert (shown['type'], shown['status']) == ('GPU', 'maintaining')
    assert osc('accelerator', 'device', 'enable', units[0]).returncode == 0
    assert _json(osc('accelerator', 'device', 'show', units[0],
                     '-f', 'json'))['status'] == 'enabled'
    deployables = _json(osc('accelerator', 'deployable', 'list',
                            '-f', 'json'))
    assert set(units) <= {row['uuid'] for row in deployables}
    one = _json(osc('accelerator', 'deployable', 'show', units[1],
                    '-f', 'json'))
    assert (one['uuid'], one['name']) == (units[1], gpus[1]['name'])


def test_arq_commands_and_ours_see_the_same_unit(osc, api, placement, gpus,
                                                 unique_name):
    """An ARQ made by the CLI, bound as Nova binds it: our own
    ``accelerator list --instance`` (the same --os-endpoint) shows the unit
    held by the server, and ``accelerator attach`` elsewhere is refused."""
    assert osc('accelerator', 'device', 'profile', 'create', unique_name,
               '--group', 'resources:PGPU=1').returncode == 0
    arq = _json(osc('accelerator', 'arq', 'create', unique_name,
                    '-f', 'json'))
    assert arq['state'] == 'Initial'
    root = placement.get_provider_by_name(unique_name)['uuid']
    host = {'root': root, 'pool': gpus[0]['pool_provider_uuid']}
    scenario.add_vcpus(placement, host)
    instance = scenario.schedule(placement, host, 1)
    bound = api.client(version='accelerator 2.0').patch(
        '/v2/accelerator_requests', json={arq['uuid']: [
            {'op': 'add', 'path': '/hostname', 'value': unique_name},
            {'op': 'add', 'path': '/device_rp_uuid', 'value': host['pool']},
            {'op': 'add', 'path': '/instance_uuid', 'value': instance}]})
    assert bound.status_code == 200, bound.text
    unit = bound.json()['arqs'][0]['accelerator_uuid']

    listed = _json(osc('accelerator', 'arq', 'list', '-f', 'json'))
    assert arq['uuid'] in [row['uuid'] for row in listed]
    shown = _json(osc('accelerator', 'arq', 'show', arq['uuid'],
                      '-f', 'json'))
    assert (shown['state'], shown['instance_uuid']) == ('Bound', instance)

    ours = _json(osc('accelerator', 'list', '--instance', instance,
                     '-f', 'json'))
    assert [row['UUID'] for row in ours] == [unit]
    refused = osc('accelerator', 'attach', unit, '--instance',
                  scenario.schedule(placement, host, 0))
    assert refused.returncode != 0
    assert 'accelerator.attach.conflict' in refused.stderr

    unbound = _json(osc('accelerator', 'arq', 'unbind', arq['uuid'],
                        '-f', 'json'))
    assert unbound['state'] == 'Initial'
    assert osc('accelerator', 'arq', 'delete', arq['uuid']).returncode == 0
    assert arq['uuid'] not in [row['uuid'] for row in _json(
        osc('accelerator', 'arq', 'list', '-f', 'json'))]
