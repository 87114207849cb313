"""Policy defaults and the generated sample an operator edits."""
import pathlib

from oslo_context import context as oslo_context
from oslo_policy import generator
import pytest

from cyborg_placement.api import errors
from cyborg_placement.api import policies
from cyborg_placement.api import policy
from cyborg_placement.api import visibility
from cyborg_placement.api.policies import accelerators
from cyborg_placement.api.policies import hosts
from cyborg_placement.api.policies import instances

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
    (['reader'], accelerators.SHOW_HOLDER, 'p1', True),
    (['reader'], accelerators.SHOW_HOST, 'p1', True),
    (['member'], accelerators.SHOW_PCI_ADDRESS, 'p1', True),
    (['member', 'reader'], accelerators.SHOW_HOLDER, 'p2', False),
    (['member', 'reader'], accelerators.SHOW_HOST, 'p2', False),
    (['reader'], accelerators.SHOW_PCI_ADDRESS, 'p2', False),
    (['service'], accelerators.SHOW_HOST, 'p2', True),
    (['admin'], accelerators.SHOW_PCI_ADDRESS, 'p2', True),
    (['reader'], instances.SHOW_BINDINGS, 'p1', True),
    (['reader'], instances.SHOW_BINDINGS, 'p2', False),
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


@pytest.mark.parametrize('rule', [accelerators.SHOW_HOLDER,
                                  accelerators.SHOW_HOST,
                                  accelerators.SHOW_PCI_ADDRESS,
                                  accelerators.DETACH])
@pytest.mark.parametrize('project', ['p1', None])
def test_a_holder_without_a_project_is_no_project_s(rule, project):
    """A free unit or a host attachment has no holding project: its target
    has no project_id, which no caller's project matches, not even None."""
    enforcer = policy.get_enforcer()
    context = _context(['member', 'reader'], project)
    assert not policy.allowed(enforcer, rule, context,
                              visibility.target(None))
    assert policy.allowed(enforcer, rule, _context(['admin'], project),
                          visibility.target(None))


def test_the_sample_names_every_rule():
    sample = (REPO / 'etc' / 'policy.yaml.sample').read_text()
    missing = [rule.name for rule in policies.list_rules()
               if f'"{rule.name}"' not in sample]
    assert missing == []
