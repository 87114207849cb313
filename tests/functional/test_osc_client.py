"""``openstack accelerator ...`` in a real cloud's shape: a Keystone issues the
token, its catalog (service type ``accelerator``) gives our API's endpoint, and
the API validates the token with keystonemiddleware."""
import pytest

from tests.functional.cli_runner import clean_env
from tests.functional.cli_runner import openstack
from tests.keystone_server import LocalKeystone
from tools.harness.api_server import ApiServer


@pytest.fixture(scope='module')
def keystone_api(keystone, placement_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp('cli-api-keystone')
    server = ApiServer.on_sqlite_behind_keystone(
        workdir, placement_server.url, keystone)
    server.start()
    service = keystone.register_service('accelerator', server.url)
    yield server
    keystone.remove_service(service)
    server.stop()


def password_env(keystone: LocalKeystone) -> dict[str, str]:
    """What an operator's openrc exports."""
    options = keystone.password_options()
    env = clean_env()
    env.update({
        'OS_AUTH_TYPE': 'password', 'OS_AUTH_URL': options['auth_url'],
        'OS_USERNAME': options['username'],
        'OS_PASSWORD': options['password'],
        'OS_PROJECT_NAME': options['project_name'],
        'OS_USER_DOMAIN_NAME': options['user_domain_name'],
        'OS_PROJECT_DOMAIN_NAME': options['project_domain_name'],
        'OS_REGION_NAME': options['region_name'],
        'OS_IDENTITY_API_VERSION': '3',
    })
    return env


def test_openrc_finds_the_api_in_the_catalog(keystone, keystone_api,
                                             unique_name):
    env = password_env(keystone)

    created = openstack('accelerator', 'create', unique_name,
                        '--spec', 'device_type=GPU', '-f', 'json', env=env)

    assert created.returncode == 0, created.stderr
    listed = openstack('accelerator', 'list', '-f', 'json', env=env)
    assert listed.returncode == 0, listed.stderr
    assert unique_name in {row['Name'] for row in listed.json()}


def test_a_wrong_password_is_a_one_line_error(keystone, keystone_api):
    env = dict(password_env(keystone), OS_PASSWORD='wrong')
    result = openstack('accelerator', 'list', env=env)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert 'Traceback' not in result.stderr


def test_a_token_the_api_does_not_accept_is_refused(keystone_api):
    # An endpoint override with a made-up token: keystonemiddleware says no.
    result = openstack('--os-auth-type', 'admin_token', '--os-endpoint',
                       keystone_api.url, '--os-token', 'admin',
                       'accelerator', 'list')
    assert result.returncode != 0
    assert 'HTTP 401' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
