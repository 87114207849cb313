"""Servers booted with ``resources:VGPU=1`` flavors through Nova's own
services, real Placement, agent and API: each case of
tests/functional/nova_vgpu_scenarios.py in a Nova process of its own."""
import pytest

from tests.functional import nova_cases

SCENARIOS = ('tests.functional.nova_vgpu_scenarios',)
CASES = nova_cases.case_names(SCENARIOS)


@pytest.fixture(scope='module')
def services(tmp_path_factory) -> nova_cases.Outcomes:
    yield from nova_cases.start_services(tmp_path_factory.mktemp('nova-vgpu'))


@pytest.mark.parametrize('case', CASES, ids=nova_cases.case_ids(CASES))
def test_nova_vgpu(services, case, request):
    nova_cases.report(services.of(request.node))
