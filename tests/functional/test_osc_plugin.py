"""Our ``openstack accelerator`` commands beside python-cyborgclient's.

Both are installed in this environment (test-requirements.txt), as they would
be on an operator's machine that also talks to upstream Cyborg: each set of
commands keeps working and neither hides or shadows the other.
"""
import importlib.metadata

import pytest

from tests.functional.cli_runner import openstack

OURS = {'accelerator list', 'accelerator show', 'accelerator create',
        'accelerator set', 'accelerator attach', 'accelerator detach'}
OUR_GROUP = 'openstack.accelerator_placement.v1'
CYBORG_GROUP = 'openstack.accelerator.v2'


@pytest.fixture(scope='module', autouse=True)
def cyborgclient_installed():
    # A missing package must fail, not pass vacuously.
    assert importlib.metadata.version('python-cyborgclient')


def test_our_list_help_works():
    result = openstack('accelerator', 'list', '--help')
    assert result.returncode == 0, result.stderr
    assert 'usage: openstack accelerator list' in result.stdout
    for option in ('--host', '--type', '--long', '--format'):
        assert option in result.stdout
    assert result.stderr == ''


def test_cyborgclient_device_list_help_works():
    result = openstack('accelerator', 'device', 'list', '--help')
    assert result.returncode == 0, result.stderr
    assert 'usage: openstack accelerator device list' in result.stdout
    assert result.stderr == ''


def test_shared_version_option_is_accepted_once():
    result = openstack('--os-accelerator-api-version', '1.0',
                       'accelerator', 'attach', '--help')
    assert result.returncode == 0, result.stderr
    assert '--instance' in result.stdout
    assert result.stderr == ''


def test_command_list_shows_both_sets_without_clashes():
    result = openstack('command', 'list', '--group', 'accelerator',
                       '-f', 'json')
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    groups = {row['Command Group']: row['Commands']
              for row in result.json()}
    assert sorted(groups[OUR_GROUP]) == sorted(OURS)
    theirs = set(groups[CYBORG_GROUP])
    assert {'accelerator device list', 'accelerator arq list',
            'accelerator device profile list'} <= theirs
    assert not OURS & theirs


def test_a_cyborg_version_keeps_our_commands():
    """--os-accelerator-api-version is shared: with Cyborg's 2.3 ours load
    from their v2 group (and speak 1.0)."""
    result = openstack('--os-accelerator-api-version', '2.3', 'command',
                       'list', '--group', 'accelerator', '-f', 'json')
    assert result.returncode == 0, result.stderr
    groups = {row['Command Group']: row['Commands']
              for row in result.json()}
    assert sorted(groups['openstack.accelerator_placement.v2']) == sorted(OURS)
    assert 'accelerator arq list' in groups[CYBORG_GROUP]
