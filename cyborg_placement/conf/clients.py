"""keystoneauth options of the services we call: [placement], [accelerator_api].

Both groups take keystoneauth's own option names, so ``auth_type = admin_token`` plus
``endpoint`` reaches a local noauth service and ``auth_type = password`` a real cloud.
"""
import copy

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from cyborg_placement.conf import groups

PLACEMENT_GROUP = cfg.OptGroup(
    'placement', title='Placement service',
    help='How to reach the Placement service (keystoneauth session, auth and '
         'adapter options).')

ACCELERATOR_API_GROUP = cfg.OptGroup(
    'accelerator_api', title='Accelerator API service',
    help='How the agent reaches the accelerator API for its device report '
         'and attachments. Without auth options here the agent only publishes '
         'to Placement.')

_DEFAULT_SERVICE_TYPES = {
    PLACEMENT_GROUP.name: 'placement',
    ACCELERATOR_API_GROUP.name: 'accelerator',
}
_VALID_INTERFACES = ('internal', 'public')


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group in (PLACEMENT_GROUP, ACCELERATOR_API_GROUP):
        groups.register(conf, group, [])
        ks_loading.register_session_conf_options(conf, group.name)
        ks_loading.register_auth_conf_options(conf, group.name)
        ks_loading.register_adapter_conf_options(conf, group.name)
        conf.set_default('service_type', _DEFAULT_SERVICE_TYPES[group.name],
                         group=group.name)
        conf.set_default('valid_interfaces', list(_VALID_INTERFACES),
                         group=group.name)


def _group_opts(group: cfg.OptGroup) -> list:
    opts = (ks_loading.get_session_conf_options()
            + ks_loading.get_auth_common_conf_options()
            + ks_loading.get_adapter_conf_options(include_deprecated=False))
    # The plugins operators use here: a token and endpoint for local
    # services, a Keystone password for real clouds.
    for plugin in ('admin_token', 'password'):
        opts += ks_loading.get_auth_plugin_conf_options(plugin)
    unique = {}
    for opt in opts:
        unique.setdefault(opt.dest, copy.copy(opt))
    unique['service_type'].default = _DEFAULT_SERVICE_TYPES[group.name]
    unique['valid_interfaces'].default = list(_VALID_INTERFACES)
    return sorted(unique.values(), key=lambda opt: opt.dest)


def list_opts() -> dict:
    return {group: _group_opts(group)
            for group in (PLACEMENT_GROUP, ACCELERATOR_API_GROUP)}
