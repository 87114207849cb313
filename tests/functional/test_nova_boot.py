"""Servers booted through Nova's own services onto our accelerator pool.

nova-api, conductor, scheduler and a compute service running
``LibvirtAcceleratorDriver`` on Nova's fake libvirt, from the nova package's
functional harness, with the real Placement, the real ``cyborg-api`` and
the real ``cyborg-agent --once`` (tests/nova_services.py). Nova cannot share
this interpreter (oslo.config's global ``CONF``), so each case of the
:data:`SCENARIOS` modules runs in a child process; the pytest
test reports its outcome (a skip stays a skip, a failure shows Nova's log and
the traceback).
"""
import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest

from tools.harness.local_placement import LocalPlacement

REPO = pathlib.Path(__file__).resolve().parents[2]
#: The scenario modules whose cases run here.
SCENARIOS = ('tests.functional.nova_boot_scenarios',
             'tests.functional.nova_migration_scenarios')
#: How much of a failed case's text (Nova's log, then the traceback) to show.
DETAIL_LIMIT = 12000


def _case_names() -> list[str]:
    """``module:Class.test_x`` of the scenario modules, read without
    importing them (they import Nova)."""
    cases = []
    for module in SCENARIOS:
        tree = ast.parse((REPO / (module.replace('.', '/') + '.py'))
                         .read_text())
        cases += [f'{module}:{node.name}.{item.name}'
                  for node in tree.body if isinstance(node, ast.ClassDef)
                  for item in node.body
                  if isinstance(item, ast.FunctionDef)
                  and item.name.startswith('test_')]
    return cases


CASES = _case_names()


@pytest.fixture(scope='module')
def services(tmp_path_factory) -> dict[str, str]:
    """The real Placement and ``cyborg-api`` every case's Nova talks to."""
    from tests.api_server import ApiServer
    workdir = tmp_path_factory.mktemp('nova-boot')
    placement = LocalPlacement(workdir / 'placement')
    placement.start()
    api = ApiServer(workdir / 'api', f'sqlite:///{workdir}/api.sqlite',
                    placement.url, workers=1)
    try:
        api.start()
        yield {'CYBORG_NOVA_PLACEMENT_URL': placement.url,
               'CYBORG_NOVA_API_URL': api.url,
               'CYBORG_NOVA_WORKDIR': str(workdir / 'nova')}
    finally:
        api.stop()
        placement.stop()


def run_case(services: dict[str, str], case: str, workdir) -> dict:
    """One case in a Nova process of its own: Nova's harness is made for a
    process per test (as stestr runs it), and a case that fails cannot
    leave state behind for the next."""
    results = workdir / 'outcome.json'
    module, case = case.split(':')
    done = subprocess.run(
        [sys.executable, '-m', 'tests.nova_services', str(results),
         module, case], cwd=REPO, capture_output=True, text=True,
        timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO), **services))
    assert results.exists(), (
        f'the Nova process ended ({done.returncode}) without an outcome:\n'
        f'{done.stderr[-DETAIL_LIMIT:]}')
    return json.loads(results.read_text())[case.rsplit('.', 1)[1]]


@pytest.mark.parametrize('case', CASES,
                         ids=[case.split(':')[1] for case in CASES])
def test_nova_boot(services, case, tmp_path):
    outcome = run_case(services, case, tmp_path)
    if outcome['outcome'] == 'skip':
        pytest.skip(outcome['detail'])
    if outcome['outcome'] != 'success':
        pytest.fail(outcome['detail'][-DETAIL_LIMIT:], pytrace=False)
