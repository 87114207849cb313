"""The configuration an operator reads and writes."""
import pathlib

from oslo_config import generator

from cyborg_placement.conf import opts

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_sample_config_is_up_to_date(tmp_path):
    """etc/cyborg.conf.sample must be what oslo-config-generator makes now."""
    output = tmp_path / 'cyborg.conf.sample'
    generator.main([
        '--config-file',
        str(REPO / 'etc' / 'oslo-config-generator' / 'cyborg.conf'),
        '--output-file', str(output)])
    committed = (REPO / 'etc' / 'cyborg.conf.sample').read_text()
    assert output.read_text() == committed, (
        'etc/cyborg.conf.sample is stale: run "tox -e genconfig"')


def test_every_option_has_help():
    for group, options in opts.list_opts():
        for opt in options:
            assert opt.help, f'[{group.name}] {opt.name} has no help text'


def test_design_option_names_and_defaults(conf):
    assert conf.agent.sysfs_root == '/sys'
    assert conf.agent.manage_root_provider is False
    assert conf.agent.pool_by_numa is False
    assert conf.api.bind_port == 6666
    assert conf.api.auth_strategy == 'keystone'
    assert conf.placement.service_type == 'placement'
    assert conf.accelerator_api.service_type == 'accelerator'
    assert conf.placement.auth_type is None


def test_keystoneauth_plugins_are_in_the_sample():
    sample = (REPO / 'etc' / 'cyborg.conf.sample').read_text()
    placement = sample.split('\n[placement]\n')[1]
    for name in ('auth_type', 'endpoint', 'token', 'auth_url', 'username',
                 'endpoint_override', 'valid_interfaces'):
        assert f'#{name} =' in placement, name


def test_overrides_stay_in_their_own_config(conf, tmp_path):
    from tests.conftest import make_conf
    other = make_conf(tmp_path, {})
    conf.set_override('sysfs_root', '/elsewhere', group='agent')
    conf.set_override('endpoint_override', 'http://x', group='placement')
    assert other.agent.sysfs_root == '/sys'
    assert other.placement.endpoint_override is None
