"""The OpenStackClient plugin module (entry point ``openstack.cli.extension``).

python-openstackclient (and python-cyborgclient, in older releases) already
registers the API name ``accelerator`` and its ``--os-accelerator-api-version``
option for upstream Cyborg. Ours is the API name ``accelerator_placement``, so
its client, and its command group ``openstack.accelerator_placement.v1``, live
beside Cyborg's; the version option is shared, because argparse allows one
owner per option string: we add it only when no other plugin declares it.
"""
import argparse
import logging

from osc_lib import utils

from cyborg_placement.osc import client

LOG = logging.getLogger(__name__)

API_NAME = 'accelerator_placement'
API_VERSION_OPTION = 'os_accelerator_api_version'
#: The command group is ``openstack.accelerator_placement.v<major>``.
DEFAULT_API_VERSION = '1'
#: The major version of Cyborg's API (and of our /v2 subset).
CYBORG_MAJOR = '2'
VERSION_FLAG = '--os-accelerator-api-version'


def make_client(instance) -> client.AcceleratorClient:
    """The API client for the commands, on the session osc already built."""
    version = instance._api_version[API_NAME]
    endpoint = instance.get_endpoint_for_service_type(
        client.SERVICE_TYPE, region_name=instance.region_name,
        interface=instance.interface)
    endpoint = api_root(endpoint)
    LOG.debug('Accelerator API %s at %s', version, endpoint)
    return client.AcceleratorClient(
        instance.session, endpoint, microversion(version),
        noauth=instance._cli_options.config.get('auth_type') == 'none')


#: The Cyborg-compatible subset's prefix: a catalog entry (or
#: --os-endpoint) ending in it, as Nova and Cyborg's clients need it,
#: names the same server, whose own API is at the root.
V2_SUFFIX = '/v2'


def api_root(endpoint: str | None) -> str | None:
    """Our API's root on the server at ``endpoint`` (None: the catalog's,
    looked up later)."""
    if endpoint is None:
        return None
    trimmed = endpoint.rstrip('/')
    if trimmed.endswith(V2_SUFFIX):
        return trimmed[:-len(V2_SUFFIX)]
    return endpoint


def microversion(version: str) -> str:
    """``1`` (a major version, as osc's group needs it) means ``1.0``.

    A 2.x version is Cyborg's (the shared ``--os-accelerator-api-version``,
    for its commands): ours then speak 1.0, so both sets of commands work
    whichever major the option names (our commands are in the groups
    ``openstack.accelerator_placement.v1`` and ``.v2`` alike).
    """
    if version.split('.')[0] == CYBORG_MAJOR:
        return f'{DEFAULT_API_VERSION}.0'
    return version if '.' in version else f'{version}.0'


def _flag_declared_elsewhere() -> bool:
    # Imported here: the plugin module is itself loaded while
    # openstackclient's clientmanager builds its list of modules.
    from openstackclient.common import clientmanager
    return any(getattr(mod, 'API_VERSION_OPTION', None) == API_VERSION_OPTION
               and getattr(mod, 'API_NAME', None) != API_NAME
               for mod in clientmanager.PLUGIN_MODULES)


def build_option_parser(parser: argparse.ArgumentParser
                        ) -> argparse.ArgumentParser:
    """Add ``--os-accelerator-api-version`` unless another plugin owns it."""
    if VERSION_FLAG in parser._option_string_actions:
        return parser
    if _flag_declared_elsewhere():
        return parser
    parser.add_argument(
        VERSION_FLAG, metavar='<accelerator-api-version>',
        default=utils.env('OS_ACCELERATOR_API_VERSION'),
        help=f'Accelerator API version, default={DEFAULT_API_VERSION} '
             '(Env: OS_ACCELERATOR_API_VERSION)')
    return parser


def check_api_version(version: str) -> bool:
    """Accept any value: the option is shared with Cyborg's version 2.

    The server refuses versions it does not serve, with a clear error.
    """
    return True
