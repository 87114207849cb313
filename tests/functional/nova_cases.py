"""Running the Nova scenario modules' cases, each in a Nova process of its
own, from pytest (tests/functional/test_nova_boot.py, test_nova_stock.py).

Nova cannot share the pytest interpreter (oslo.config's global ``CONF``), and
its harness is made for a process per test (as stestr runs it): a case that
fails cannot leave state behind for the next. The child process is
``python -m tools.harness.nova_services`` (see there); a case's outcome comes
back as JSON, and :func:`report` turns it into pytest's (a skip stays a skip,
a failure shows Nova's log and the traceback).
"""
import ast
import json
import os
import pathlib
import subprocess
import sys

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
import pytest

from tools.harness.api_server import ApiServer
from tools.harness.local_placement import LocalPlacement

REPO = pathlib.Path(__file__).resolve().parents[2]
#: How much of a failed case's text (Nova's log, then the traceback) to show.
DETAIL_LIMIT = 12000


def case_names(modules: tuple[str, ...]) -> list[str]:
    """``module:Class.test_x`` of the scenario modules, read without
    importing them (they import Nova)."""
    cases = []
    for module in modules:
        tree = ast.parse((REPO / (module.replace('.', '/') + '.py'))
                         .read_text())
        cases += [f'{module}:{node.name}.{item.name}'
                  for node in tree.body if isinstance(node, ast.ClassDef)
                  for item in node.body
                  if isinstance(item, ast.FunctionDef)
                  and item.name.startswith('test_')]
    return cases


def case_ids(cases: list[str]) -> list[str]:
    return [case.split(':')[1] for case in cases]


def start_services(workdir: pathlib.Path, keystone=None):
    """The real Placement and ``cyborg-api`` every case's Nova talks to, as
    the environment of the child process (a generator: stops them after).

    With ``keystone`` (a running :class:`tests.keystone_server.LocalKeystone`)
    the API runs behind keystonemiddleware, and the environment carries real
    tokens: a user's, a member of a project of its own, for Nova to pass on,
    and an admin's (tools/harness/nova_services.py, ``USER_TOKEN``).
    """
    placement = LocalPlacement(workdir / 'placement')
    placement.start()
    auth = {}
    if keystone is not None:
        auth = {'auth_strategy': 'keystone', 'sections': {
            'keystone_authtoken': keystone.authtoken_options()}}
    api = ApiServer(workdir / 'api', f'sqlite:///{workdir}/api.sqlite',
                    placement.url, workers=1, **auth)
    try:
        api.start()
        env = {'CYBORG_NOVA_PLACEMENT_URL': placement.url,
               'CYBORG_NOVA_API_URL': api.url,
               'CYBORG_NOVA_WORKDIR': str(workdir / 'nova')}
        if keystone is not None:
            env.update(_tokens(keystone, workdir.name))
        yield env
    finally:
        api.stop()
        placement.stop()


def _tokens(keystone, name: str) -> dict[str, str]:
    """An admin's token, and a user's with roles member and reader in a
    project of its own."""
    options = keystone.add_user(f'{name}-user', f'{name}-project',
                                ['member', 'reader'])
    user = ks_session.Session(auth=v3.Password(**{
        key: value for key, value in options.items()
        if key not in ('auth_type', 'region_name')}))
    return {'CYBORG_NOVA_USER_TOKEN': user.get_token(),
            'CYBORG_NOVA_ADMIN_TOKEN': keystone.admin_session().get_token()}


def run_case(services: dict[str, str], case: str,
             workdir: pathlib.Path) -> dict:
    """One case in a Nova process of its own; its outcome."""
    results = workdir / 'outcome.json'
    module, case = case.split(':')
    done = subprocess.run(
        [sys.executable, '-m', 'tools.harness.nova_services', str(results),
         module, case], cwd=REPO, capture_output=True, text=True,
        timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO), **services))
    assert results.exists(), (
        f'the Nova process ended ({done.returncode}) without an outcome:\n'
        f'{done.stderr[-DETAIL_LIMIT:]}')
    return json.loads(results.read_text())[case.rsplit('.', 1)[1]]


def report(outcome: dict) -> None:
    """The case's outcome as pytest's."""
    if outcome['outcome'] == 'skip':
        pytest.skip(outcome['detail'])
    if outcome['outcome'] != 'success':
        pytest.fail(outcome['detail'][-DETAIL_LIMIT:], pytrace=False)
