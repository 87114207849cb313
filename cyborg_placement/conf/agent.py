"""Options of the per-host agent (``[agent]``)."""
from oslo_config import cfg

GROUP = cfg.OptGroup(
    'agent', title='Agent options',
    help='How the per-host agent discovers accelerators and publishes them.')

OPTS = [
    cfg.StrOpt(
        'sysfs_root', default='/sys',
        help='Root of the sysfs tree to read PCI devices from. Tests and the '
             'sample host point this at a directory built to look like sysfs.'),
    cfg.StrOpt(
        'resource_provider_name',
        help='Name of the compute-node resource provider the accelerator '
             'providers are nested under. Defaults to the host name that '
             "Nova's libvirt driver reports for this host."),
    cfg.BoolOpt(
        'manage_root_provider', default=False,
        help='Create the root resource provider when it does not exist. Only '
             'for standalone use without Nova: with Nova the compute-node '
             'provider belongs to nova-compute and the agent waits for it.'),
    cfg.IntOpt(
        'report_interval', default=60, min=1,
        help='Seconds between two discovery and publication cycles of the '
             'agent daemon.'),
    cfg.BoolOpt(
        'pool_by_numa', default=False,
        help='Add the NUMA node to the pool key, so that units on different '
             'NUMA nodes are published as different resource providers.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> dict:
    return {GROUP: OPTS}
