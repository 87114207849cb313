"""Running the Nova scenario modules' cases from pytest
(tests/functional/test_nova_*.py), in a Nova process of their own.

Nova cannot share the pytest interpreter (oslo.config's global ``CONF``).
As stestr runs Nova's own functional tests, one process runs many cases,
each set up and torn down by Nova's harness: :class:`Outcomes` runs every
case the session selected of one scenario module in one child process,
``python -m tools.harness.nova_services``, when the first of them is asked
for. Starting a process per case cost each case its imports and Nova's
database schemas again, about a third of its CPU time
(docs/testing.md). A case's outcome comes back as JSON, and :func:`report`
turns it into pytest's (a skip stays a skip, a failure shows Nova's log and
the traceback); a case the process never reached fails with its stderr.
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
    """The real Placement and ``cyborg-api`` every case's Nova talks to,
    and the :class:`Outcomes` of cases run against them (a generator:
    stops them after).

    With ``keystone`` (a running :class:`tests.keystone_server.LocalKeystone`)
    the API runs behind keystonemiddleware, and the environment carries real
    tokens: a user's, a member of a project of its own, for Nova to pass on,
    and an admin's (tools/harness/nova_services.py, ``USER_TOKEN``).
    """
    placement = LocalPlacement(workdir / 'placement', forked=True)
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
        outcomes = workdir / 'outcomes'
        outcomes.mkdir()
        yield Outcomes(env, outcomes)
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


#: How long one case may take; a batch has this much per case.
CASE_TIMEOUT = 300


def _siblings(item: pytest.Item) -> list[str]:
    """The cases the session runs beside ``item``: those of its test
    function with the same values of every other parameter (the same
    ``services``), in the session's order."""
    def others(node) -> dict:
        return {name: value for name, value in node.callspec.params.items()
                if name != 'case'}
    return [node.callspec.params['case'] for node in item.session.items
            if node.module is item.module
            and node.originalname == item.originalname
            and others(node) == others(item)]


class Outcomes:
    """The outcomes of a test module's cases against one set of services,
    each scenario module's run in one Nova process when first asked for."""

    def __init__(self, services: dict[str, str],
                 workdir: pathlib.Path) -> None:
        self.services = services
        self.workdir = workdir
        self._known: dict[str, dict] = {}

    def of(self, item: pytest.Item) -> dict:
        """The outcome of ``item``'s case."""
        case = item.callspec.params['case']
        if case not in self._known:
            module = case.split(':')[0]
            self._run(module, [sibling for sibling in _siblings(item)
                               if sibling.split(':')[0] == module])
        return self._known[case]

    def _run(self, module: str, cases: list[str]) -> None:
        results = self.workdir / f'{module}.json'
        names = [case.split(':')[1] for case in cases]
        try:
            done = subprocess.run(
                [sys.executable, '-m', 'tools.harness.nova_services',
                 str(results), module, *names], cwd=REPO,
                capture_output=True, text=True,
                timeout=CASE_TIMEOUT * len(names),
                env=dict(os.environ, PYTHONPATH=str(REPO), **self.services))
            ended, stderr = f'ended ({done.returncode})', done.stderr
        except subprocess.TimeoutExpired as exc:
            # Every case of the batch gets this outcome: asking again for
            # each would run (and time out) the whole batch once per case.
            ended = f'was killed after {exc.timeout} s'
            stderr = (exc.stderr or b'').decode(errors='replace')
        found = json.loads(results.read_text()) if results.exists() else {}
        for case, name in zip(cases, names, strict=True):
            self._known[case] = found.get(name) or {
                'outcome': 'error',
                'detail': f'the Nova process {ended} before {name} had an '
                          f'outcome:\n{stderr[-DETAIL_LIMIT:]}'}


def report(outcome: dict) -> None:
    """The case's outcome as pytest's."""
    if outcome['outcome'] == 'skip':
        pytest.skip(outcome['detail'])
    if outcome['outcome'] != 'success':
        pytest.fail(outcome['detail'][-DETAIL_LIMIT:], pytrace=False)
