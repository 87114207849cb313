"""Register an option group on one ConfigOpts without sharing state with others."""
from oslo_config import cfg


def register(conf: cfg.ConfigOpts, group: cfg.OptGroup, opts: list) -> None:
    """Register ``opts`` under a fresh copy of ``group``.

    oslo.config keeps a group's registered options on the OptGroup object it is
    given (a shallow copy shares them), so registering the module-level group on
    several ConfigOpts would make an override on one (a test's, say) leak into
    every other.
    """
    conf.register_group(cfg.OptGroup(group.name, title=group.title,
                                     help=group.help))
    conf.register_opts(opts, group=group.name)
