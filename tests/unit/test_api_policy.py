"""Policy defaults and the generated sample an operator edits."""
import pathlib

from oslo_context import context as oslo_context
from oslo_policy import generator
import pytest

from cyborg_placement.api import errors
from cyborg_placement.api import policy
from cyborg_placement.api.policies import accelerators
from cyborg_placement.api.policies import hosts

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_sample_policy_is_up_to_date(tmp_path):
    output = tmp_path / 'policy.yaml.sample'
    generator.generate_sample(args=[
        '--config-file',
        str(REPO / 'etc' / 'oslo-policy-generator' / 'cyborg.conf'),
        '--output-file', str(output)])
    committed = (REPO / 'etc' / 'policy.yaml.sample').read_text()
    assert output.read_text() == committed, (
        'etc/policy.yaml.sample is stale: run "tox -e genpolicy"')


def _context(roles, project='p1'):
    return oslo_context.RequestContext(roles=roles, project_id=project)


@pytest.mark.parametrize('roles,rule,target_project,allowed', [
    (['reader'], accelerators.LIST, 'p1', True),
    (['reader'], accelerators.CREATE, 'p1', False),
    (['member'], accelerators.ATTACH_INSTANCE, 'p1', True),
    (['member'], accelerators.ATTACH_INSTANCE, 'p2', False),
    (['member'], accelerators.ATTACH_HOST, 'p1', False),
    (['admin'], accelerators.ATTACH_INSTANCE, 'p2', True),
    (['service'], hosts.REPORT_DEVICES, 'p1', True),
    (['member'], hosts.REPORT_DEVICES, 'p1', False),
    (['member'], accelerators.BIND_EXISTING, 'p1', False),
])
def test_defaults_by_role(roles, rule, target_project, allowed):
    enforcer = policy.get_enforcer()
    check = lambda: policy.authorize(  # noqa: E731
        enforcer, rule, _context(roles), {'project_id': target_project})
    if allowed:
        check()
    else:
        with pytest.raises(errors.Forbidden, match=rule):
            check()
