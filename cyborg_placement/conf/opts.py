"""Entry point for oslo-config-generator (``oslo.config.opts``)."""
from cyborg_placement.conf import agent
from cyborg_placement.conf import api
from cyborg_placement.conf import clients
from cyborg_placement.conf import database
from cyborg_placement.conf import privsep


def list_opts() -> list:
    """Return ``[(group, [opts])]`` for the sample config, groups in file order."""
    merged = {}
    for module in (agent, privsep, api, database, clients):
        merged.update(module.list_opts())
    return [(group, opts) for group, opts in merged.items()]
