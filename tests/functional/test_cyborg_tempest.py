"""Cyborg's own API tests (``cyborg-tempest-plugin``) against our ``/v2``.

What an operator replacing Cyborg runs to validate a cloud: ``tempest run``
of ``cyborg_tempest_plugin.tests.api``, from a virtualenv of its own
(``.tempest-venv``, pinned in ``tools/tempest-requirements.txt``, built by
``tools/install-test-deps.sh``), against the real ``cyborg-api`` behind the
real Keystone (catalog type ``accelerator``, endpoint ending in ``/v2``), on a
host the real ``cyborg-agent`` reported, so devices, deployables and
attributes exist. Tempest's personas (admins, a project's manager, member
and reader, ``service`` users, system admins) are real Keystone users, made
once for both runs (tempest's pre-provisioned accounts).

Both of the plugin's policy modes run:

- legacy (``[cyborg_policy] enforce_new_defaults = False``): every persona
  client is the admin, the SRBAC tests skip themselves; our default policy.
- new defaults (``True``): the real personas; the API's policy opens
  ``accelerator:show:host`` as the operator guide says to show hosts as
  Cyborg does (point 9 of issue 22: two device tests read a host).

A run fails when a test fails other than :data:`EXPECTED_FAILURES` (where
Cyborg answers 500 to bad input and we answer 4xx), when one of those
passes or fails with anything but our 4xx, when a test is skipped for
another reason than the plugin's SRBAC skip in legacy mode, or when the API
logged an unexpected error (a 500).
"""
import json
import os
import pathlib
import subprocess
import sys
import time
import uuid

import pytest

from tools.harness import catalog
from tools.harness import ini
from tools.harness import sysfs_tree
from tools.harness.api_server import ApiServer

REPO = pathlib.Path(__file__).resolve().parents[2]
TEMPEST_VENV = REPO / '.tempest-venv'
AGENT = str(pathlib.Path(sys.executable).parent / 'cyborg-agent')
#: Results of the plugin's API tests at the pinned version: 42 tests; in
#: legacy mode its 3 SRBAC classes skip as a whole (one result each).
RESULTS = {False: 42 - 9 + 3, True: 42}
REGEX = r'^cyborg_tempest_plugin\.tests\.api\.'
_NEGATIVE = ('cyborg_tempest_plugin.tests.api.test_device_profile_negative.'
             'DeviceProfileNegativeTest.')
#: Where Cyborg answers 500 and we answer a client error (issue 22, point
#: 8): each test, and the tempest exception our answer raises instead of
#: the ServerFault it expects.
EXPECTED_FAILURES = {
    _NEGATIVE + 'test_create_device_profile_name_is_null': (
        'BadRequest', 'an empty name is bad input (400), not a server '
        'fault'),
    _NEGATIVE + 'test_create_device_profile_name_to_long': (
        'BadRequest', 'a 256-character name is longer than the column '
        '(400), not a server fault'),
    _NEGATIVE + 'test_create_device_profile_server_fault': (
        'Conflict', 'a uuid another profile has is a conflict (409), not a '
        'server fault'),
}
#: The plugin's own skip of its SRBAC tests in legacy mode.
SRBAC_SKIP = 'SRBAC tests require cyborg_policy.enforce_new_defaults = True'
#: As docs/operator-guide.md, "Matching Cyborg's visibility".
AS_CYBORG = 'rule:admin_api or rule:service_api or role:member or role:reader'
#: Tempest's personas, made once in Keystone for both runs (accounts
#: tempest would otherwise make and delete for every test class), as many as
#: two test classes at a time take: each an admin and a project admin, the
#: project's manager, member (also tempest's "primary") and reader, a
#: service user and, in one SRBAC class, a system admin. The project
#: personas share one project, as tempest's own dynamic ones do (a reader
#: lists the ARQs a member made).
PERSONAS = {'admin': 4, 'manager': 2, 'member': 2, 'reader': 2, 'service': 2}
SYSTEM_ADMINS = 2
CONCURRENCY = 2


def _tempest(*args: str, cwd: pathlib.Path, **kwargs):
    """``tempest`` with ``cwd`` (in the test's directory) as its home, so
    its workspace registry and global config directory stay there."""
    return subprocess.run([str(TEMPEST_VENV / 'bin' / 'tempest'), *args],
                          cwd=cwd, capture_output=True,
                          env={**os.environ, 'HOME': str(cwd)}, **kwargs)


@pytest.fixture(scope='module')
def tempest_venv() -> pathlib.Path:
    """The venv the test command builds; missing is a failure, not a skip."""
    assert (TEMPEST_VENV / 'bin' / 'tempest').exists(), (
        f'{TEMPEST_VENV} is missing: run tools/install-test-deps.sh')
    return TEMPEST_VENV


def _agent(workdir: pathlib.Path, keystone, api: ApiServer,
           placement_url: str, host: str) -> None:
    """The real ``cyborg-agent --once`` on a host of two H100s: it makes
    the host's provider, publishes the pool and reports the units to the
    API as a Keystone ``service`` user."""
    tree = sysfs_tree.build(workdir / 'sys', [
        catalog.nvidia_h100_sxm(f'0000:{0x18 + n * 0x10:02x}:00.0', 0,
                                100 + n) for n in range(2)])
    service = keystone.add_user(f'agent-{host}', 'service', ['service'])
    conf_file = ini.write(workdir / 'cyborg-agent.conf', {
        'placement': ini.token_auth(placement_url),
        'accelerator_api': dict(service, endpoint_override=api.url),
        'agent': {'sysfs_root': tree.root, 'resource_provider_name': host,
                  'manage_root_provider': 'true',
                  'state_dir': workdir / 'state',
                  'libvirt_uri': 'test:///default'}})
    done = subprocess.run([AGENT, '--config-file', str(conf_file), '--once'],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _account(keystone, name: str, project: str | None, role: str
             ) -> dict:
    """One user of tempest's accounts file: ``role`` on ``project``, or on
    the system (``project`` None)."""
    if project is not None:
        made = keystone.user(name, keystone.project(project), [role])
        return {'username': name, 'password': made['password'],
                'user_domain_name': 'Default', 'project_name': project,
                'project_domain_name': 'Default', 'roles': [role]}
    made = keystone.user(name, keystone.project('tempest-system'), [])
    sess = keystone.admin_session()
    role_id = sess.get(keystone.auth_url + '/roles',
                       params={'name': role}).json()['roles'][0]['id']
    sess.put(f'{keystone.auth_url}/system/users/{made["user_id"]}/roles/'
             f'{role_id}')
    return {'username': name, 'password': made['password'],
            'user_domain_name': 'Default', 'system': 'all', 'roles': [role]}


@pytest.fixture(scope='module')
def accounts(keystone) -> list[dict]:
    """Tempest's pre-provisioned accounts, made in the real Keystone."""
    tag = uuid.uuid4().hex[:6]
    made = [_account(keystone, f'tempest-{role}-{tag}-{n}',
                     f'tempest-{tag}', role)
            for role, count in PERSONAS.items() for n in range(count)]
    made += [_account(keystone, f'tempest-system-{tag}-{n}', None, 'admin')
             for n in range(SYSTEM_ADMINS)]
    return made


def _tempest_conf(keystone, region: str, new_defaults: bool,
                  workspace: pathlib.Path) -> dict:
    return {
        'DEFAULT': {'log_dir': workspace / 'logs', 'log_file': 'tempest.log',
                    'use_stderr': 'false'},
        'auth': {'use_dynamic_credentials': 'false',
                 'test_accounts_file': workspace / 'etc' / 'accounts.yaml',
                 'default_credentials_domain_name': 'Default',
                 'create_isolated_networks': 'false'},
        'oslo_concurrency': {'lock_path': workspace / 'locks'},
        'identity': {'uri_v3': keystone.auth_url, 'auth_version': 'v3',
                     'region': region, 'v3_endpoint_type': 'public'},
        'identity-feature-enabled': {'api_v2': 'false'},
        'service_available': {'cyborg': 'true', 'neutron': 'false',
                              'nova': 'false', 'glance': 'false',
                              'cinder': 'false', 'swift': 'false'},
        'cyborg_policy': {'enforce_new_defaults': str(new_defaults).lower()},
    }


def _run_tempest(workspace: pathlib.Path) -> tuple[list[dict], float]:
    """``tempest run`` of the plugin's API tests: each test's result, and
    how long the run took."""
    started = time.monotonic()
    run = _tempest('run', '--regex', REGEX, '--concurrency', str(CONCURRENCY),
                   '--subunit', cwd=workspace, timeout=1200)
    elapsed = time.monotonic() - started
    (workspace / 'run.subunit').write_bytes(run.stdout)
    parsed = subprocess.run(
        [str(TEMPEST_VENV / 'bin' / 'python'), '-m',
         'tools.harness.tempest_results'], input=run.stdout, cwd=REPO,
        capture_output=True, check=True, env={**os.environ,
                                              'PYTHONPATH': str(REPO)})
    results = json.loads(parsed.stdout)
    assert results, run.stderr.decode()[-4000:]
    return results, elapsed


def _problems(results: list[dict], new_defaults: bool) -> list[str]:
    """What makes the run fail, one line per test."""
    problems = []
    for result in results:
        name = result['id'].split('[')[0]
        status, reason = result['status'], result['reason']
        expected = EXPECTED_FAILURES.get(name)
        if expected is not None:
            exception, why = expected
            if status != 'fail' or f'exceptions.{exception}' not in reason:
                problems.append(f'{name}: expected to fail with {exception} '
                                f'({why}), got {status}: {reason[-800:]}')
        elif status == 'skip':
            if new_defaults or SRBAC_SKIP not in reason:
                problems.append(f'{name}: skipped: {reason}')
        elif status != 'success':
            problems.append(f'{name}: {status}: {reason[-1500:]}')
    return problems


@pytest.mark.timeout(1500)
@pytest.mark.parametrize('new_defaults', [False, True],
                         ids=['legacy', 'new-defaults'])
def test_cyborg_tempest_plugin(new_defaults, tempest_venv, keystone,
                               accounts, placement_server, tmp_path):
    policy = {}
    if new_defaults:
        policy_file = tmp_path / 'policy.yaml'
        policy_file.write_text(f'"accelerator:show:host": "{AS_CYBORG}"\n')
        policy = {'oslo_policy': {'policy_file': str(policy_file)}}
    api = ApiServer.on_sqlite(
        tmp_path / 'api', placement_server.url, workers=1,
        auth_strategy='keystone',
        sections={'keystone_authtoken': keystone.authtoken_options(),
                  **policy})
    api.start()
    region = f'tempest-{uuid.uuid4().hex[:8]}'
    service_id = keystone.register_service('accelerator', api.url + '/v2',
                                           region)
    try:
        _agent(tmp_path / 'agent', keystone, api, placement_server.url,
               f'tempest-{uuid.uuid4().hex[:8]}')
        workspace = tmp_path / 'tempest'
        _tempest('init', '--name', region, str(workspace), cwd=tmp_path,
                 check=True)
        ini.write(workspace / 'etc' / 'tempest.conf',
                  _tempest_conf(keystone, region, new_defaults, workspace))
        # YAML is a superset of JSON: tempest reads this as its accounts.
        (workspace / 'etc' / 'accounts.yaml').write_text(json.dumps(accounts))
        results, elapsed = _run_tempest(workspace)
    finally:
        keystone.remove_service(service_id)
        api.stop()
    print(f'tempest ({"new defaults" if new_defaults else "legacy"}): '
          f'{len(results)} results in {elapsed:.0f} s; expected failures:')
    for name, (exception, why) in EXPECTED_FAILURES.items():
        print(f'  {name.rsplit(".", 1)[1]}: {exception}: {why}')
    assert _problems(results, new_defaults) == []
    assert len({r['id'] for r in results}) == RESULTS[new_defaults]
    assert {r['id'].split('[')[0] for r in results} >= set(EXPECTED_FAILURES)
    assert 'Unexpected error' not in api.log_file.read_text()
