"""Stock Nova against our API's ``/v2``, as against OpenStack Cyborg.

nova-api, conductor, scheduler and a compute service running the unmodified
``libvirt.LibvirtDriver`` on Nova's fake libvirt, Nova's own Cyborg client
on the real ``cyborg-api``, the real Placement and the real ``cyborg-agent
--once`` (tools/harness/nova_services.py, ``StockNovaServicesTestBase``): a flavor
with ``accel:device_profile`` boots with units of the allocated pool, they
stay through reboot, rebuild and shelve, are released on delete, Nova
refuses what it refuses for accelerators, and a bind the API cannot do fails
the build; an mdev vGPU of an A100 comes as an ``MDEV`` ARQ, whose mdev
Nova creates and puts into the guest. Each case runs against the API with
noauth and behind a real Keystone (a project member's token, which Nova
passes on), in a child process (tests/functional/nova_cases.py).
"""
import pytest

from tests.functional import nova_cases

CASES = nova_cases.case_names(('tests.functional.nova_stock_scenarios',
                               'tests.functional.nova_stock_vgpu_scenarios'))


@pytest.fixture(scope='module', params=['noauth', 'keystone'])
def services(request, tmp_path_factory) -> nova_cases.Outcomes:
    """Our API with noauth, or behind Keystone with a real user's token for
    Nova to pass on."""
    keystone = (request.getfixturevalue('keystone')
                if request.param == 'keystone' else None)
    yield from nova_cases.start_services(
        tmp_path_factory.mktemp(f'nova-stock-{request.param}'), keystone)


@pytest.mark.parametrize('case', CASES, ids=nova_cases.case_ids(CASES))
def test_nova_stock(services, case, request):
    nova_cases.report(services.of(request.node))
