"""``[accelerator_api]`` in nova.conf: how nova-compute reaches our API.

nova-compute runs with Nova's own global ``CONF``, where cyborg_placement.conf
cannot be imported (its ``[api]`` and ``[database]`` options clash with
Nova's), so the driver registers only this group, with the same keystoneauth
option names the agent's cyborg.conf uses.
"""
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP = 'accelerator_api'

OPTS = [
    cfg.StrOpt(
        'agent_host',
        help='The name this host has in the accelerator API: the host name '
             "the agent reports its accelerators under (its [agent] "
             'resource_provider_name). The driver binds and releases the '
             "instance's units on this host by that name. Default: the host "
             "name libvirt reports, which is also the agent's default and "
             "the name of Nova's compute-node resource provider."),
    cfg.ListOpt(
        'vgpu_command',
        default=['cyborg-agent', '--config-file', '/etc/cyborg/cyborg.conf'],
        help='The agent command, with the arguments that give it this '
             "host's cyborg.conf, that the driver runs (adding \"vgpu make\" "
             'or "vgpu delete" and the unit) to make a bound vGPU before '
             'the guest starts and delete it when the instance leaves. It '
             "starts the agent's privileged daemon as the agent does "
             "([privsep_sysfs] of that cyborg.conf; sudoers must let the "
             'nova user run its helper command, see etc/sudoers.d).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Idempotent: re-registering the same keystoneauth options is allowed."""
    conf.register_group(cfg.OptGroup(
        GROUP, title='Accelerator API service',
        help='How nova-compute asks the accelerator API which accelerators '
             'are bound to an instance. Without auth_type the driver adds '
             'no accelerators to guests.'))
    conf.register_opts(OPTS, group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)
    ks_loading.register_adapter_conf_options(conf, GROUP)
    conf.set_default('service_type', 'accelerator', group=GROUP)
    conf.set_default('valid_interfaces', ['internal', 'public'], group=GROUP)


def load_adapter(conf: cfg.ConfigOpts) -> ks_adapter.Adapter | None:
    """A keystoneauth Adapter on ``[accelerator_api]``, or None when no
    ``auth_type`` is configured (the API is not in use on this cloud)."""
    auth = ks_loading.load_auth_from_conf_options(conf, GROUP)
    if auth is None:
        return None
    session = ks_loading.load_session_from_conf_options(conf, GROUP,
                                                        auth=auth)
    return ks_loading.load_adapter_from_conf_options(conf, GROUP,
                                                     session=session)
