"""Servers booted through Nova's own services onto our accelerator pool.

nova-api, conductor, scheduler and a compute service running
``LibvirtAcceleratorDriver`` on Nova's fake libvirt, from the nova package's
functional harness, with the real Placement, the real ``cyborg-api`` and
the real ``cyborg-agent --once`` (tools/harness/nova_services.py). Each case of the
:data:`SCENARIOS` modules runs in a child process (tests/functional/
nova_cases.py).
"""
import pytest

from tests.functional import nova_cases

#: The scenario modules whose cases run here.
SCENARIOS = ('tests.functional.nova_boot_scenarios',
             'tests.functional.nova_migration_scenarios')
CASES = nova_cases.case_names(SCENARIOS)


@pytest.fixture(scope='module')
def services(tmp_path_factory) -> nova_cases.Outcomes:
    yield from nova_cases.start_services(tmp_path_factory.mktemp('nova-boot'))


@pytest.mark.parametrize('case', CASES, ids=nova_cases.case_ids(CASES))
def test_nova_boot(services, case, request):
    nova_cases.report(services.of(request.node))
