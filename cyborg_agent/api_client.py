"""The agent's connection to the accelerator API (``[accelerator_api]``).

Loaded like the Placement client (keystoneauth session and auth from the same
kind of group), as a plain keystoneauth Adapter: the API is ours, so no SDK
proxy is involved.
"""
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from cyborg_placement.placement import client as placement_client

GROUP = 'accelerator_api'
#: The microversion this agent speaks.
VERSION_HEADER = {'OpenStack-API-Version': 'accelerator 1.0'}


def is_configured(conf: cfg.ConfigOpts) -> bool:
    """Without auth options the agent only publishes to Placement."""
    return bool(conf[GROUP].auth_type)


def make_adapter(conf: cfg.ConfigOpts) -> ks_adapter.Adapter:
    session = placement_client.load_session(conf, GROUP)
    return ks_loading.load_adapter_from_conf_options(
        conf, GROUP, session=session, additional_headers=VERSION_HEADER)
