"""Hosts as Nova and discovery make them, for the publication tests.

``create_compute_node`` (from ``tools/harness/nova_compute.py``) makes the
root provider the way nova-compute does, so the tests can check that the
agent never writes it.
``units_from`` runs the real discovery on a sysfs tree built from the catalog.
"""
import uuid

from cyborg_agent import discovery
from cyborg_placement.placement.client import PlacementClient
from tests.conftest import make_conf
from tools.harness import sysfs_tree
from tools.harness.nova_compute import create_compute_node  # noqa: F401
from tools.harness.nova_compute import NOVA_INVENTORY  # noqa: F401
from tools.harness.nova_compute import NOVA_TRAITS  # noqa: F401


def root_snapshot(client: PlacementClient, node_uuid: str) -> tuple:
    """What Nova owns on the root: must be identical before and after."""
    inventories = client.get(f'/resource_providers/{node_uuid}/inventories')
    traits = client.get(f'/resource_providers/{node_uuid}/traits')
    return (inventories['inventories'], sorted(traits['traits']))


def units_from(directory, functions: list[sysfs_tree.PciFunction]) -> list:
    """The units the real discovery finds on a sysfs tree of ``functions``,
    on a host whose NUMA node 0 has CPUs 0-3 on socket 0."""
    root = directory / f'sys-{uuid.uuid4().hex[:6]}'
    sysfs_tree.build(root, functions).add_node(0, [0, 1, 2, 3], package=0)
    conf = make_conf(directory, {'agent': {'sysfs_root': root}})
    return discovery.discover_units(conf)


def children(client: PlacementClient, node_uuid: str) -> dict[str, dict]:
    """The providers under a root, by name, with inventories and traits."""
    found = {}
    for provider in client.providers_in_tree(node_uuid):
        if provider['uuid'] == node_uuid:
            continue
        path = f'/resource_providers/{provider["uuid"]}'
        provider['inventories'] = client.get(path + '/inventories')[
            'inventories']
        provider['traits'] = set(client.get(path + '/traits')['traits'])
        found[provider['name']] = provider
    return found


class BeforeWrite:
    """A client through which something happens just before a chosen write.

    The agent's calls all go to the real Placement; ``event`` runs once,
    before the next write whose URL ends with ``url_suffix`` once ``armed``:
    a concurrent writer bumping a generation, or Placement going away.
    """

    def __init__(self, client: PlacementClient, url_suffix: str, event,
                 armed: bool = False) -> None:
        self._client = client
        self._suffix = url_suffix
        self._event = event
        self.armed = armed

    def __getattr__(self, name):
        return getattr(self._client, name)

    def request(self, method: str, url: str, **kwargs):
        if (self.armed and method != 'GET' and url.endswith(self._suffix)):
            self.armed = False
            self._event()
        return self._client.request(method, url, **kwargs)

    def get(self, url, **kwargs):
        return self.request('GET', url, **kwargs)

    def put(self, url, body=None, **kwargs):
        return self.request('PUT', url, json=body, **kwargs)

    def post(self, url, body, **kwargs):
        return self.request('POST', url, json=body, **kwargs)

    def delete(self, url, **kwargs):
        return self.request('DELETE', url, **kwargs)

    def get_provider_by_name(self, name):
        return PlacementClient.get_provider_by_name(self, name)

    def providers_in_tree(self, root_uuid):
        return PlacementClient.providers_in_tree(self, root_uuid)

    def ensure_resource_class(self, name):
        return PlacementClient.ensure_resource_class(self, name)

    def ensure_traits(self, names):
        return PlacementClient.ensure_traits(self, names)
