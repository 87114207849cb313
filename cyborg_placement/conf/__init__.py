"""All configuration options, registered on one global ``CONF``."""
from oslo_config import cfg

from cyborg_placement.conf import agent
from cyborg_placement.conf import api
from cyborg_placement.conf import clients
from cyborg_placement.conf import database

CONF = cfg.CONF

_MODULES = (agent, api, database, clients)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every group on ``conf`` (tests pass their own ConfigOpts)."""
    for module in _MODULES:
        module.register_opts(conf)


register_opts(CONF)
