"""Servers whose accelerators follow their CPUs' NUMA node, booted,
rebooted, rescheduled and resized through Nova's own services on a fake
libvirt host with two NUMA nodes (tests/functional/nova_numa_scenarios.py),
each case in a child process (tests/functional/nova_cases.py)."""
import pytest

from tests.functional import nova_cases

SCENARIOS = ('tests.functional.nova_numa_scenarios',)
CASES = nova_cases.case_names(SCENARIOS)


@pytest.fixture(scope='module')
def services(tmp_path_factory) -> nova_cases.Outcomes:
    yield from nova_cases.start_services(tmp_path_factory.mktemp('nova-numa'))


@pytest.mark.parametrize('case', CASES, ids=nova_cases.case_ids(CASES))
def test_nova_numa(services, case, request):
    nova_cases.report(services.of(request.node))
