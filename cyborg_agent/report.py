"""The agent's device report: its host's units, in one bulk request.

Each unit names the pool provider it is counted in, read from the tree the
Placement sync has just published, so the API claims from that very pool.
"""
from collections.abc import Iterable

from keystoneauth1 import adapter as ks_adapter

from cyborg_agent import api_client
from cyborg_agent.publish import tree
from cyborg_placement.vocabulary import Unit


def unit_entry(unit: Unit, pool: tree.PoolProvider) -> dict:
    return {
        'pci_address': unit.address.lower(),
        'vendor_id': unit.vendor_id.lower(),
        'product_id': unit.product_id.lower(),
        'device_type': unit.device_type,
        'pool_provider_uuid': pool.uuid,
        'resource_class': pool.resource_class,
        'numa_node': unit.numa_node,
        'driver': unit.driver,
        'health': 'healthy' if unit.healthy else 'unhealthy',
        'health_reason': unit.health_reason,
    }


def build_report(units: Iterable[Unit],
                 published: dict[str, tree.PoolProvider]) -> dict:
    """The body of ``PUT /hosts/{host}/accelerators``.

    ``published`` is the tree the sync returned for these units.
    """
    pools = tree.provider_of_units(published)
    return {'accelerators': [unit_entry(u, pools[u.address])
                             for u in sorted(units, key=lambda u: u.address)]}


def send_report(adapter: ks_adapter.Adapter, host: str, report: dict
                ) -> list[dict]:
    """Send the report; return the host's accelerators as the API keeps them.

    Failures are ``api_client.ApiUnreachable`` or ``ApiRefused``.
    """
    return api_client.call(adapter, 'PUT', f'/hosts/{host}/accelerators',
                           json=report)['accelerators']
