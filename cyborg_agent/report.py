"""The agent's device report: its host's units, in one bulk request.

Each unit names the pool provider it is counted in, derived with the same
naming rules the Placement sync uses, so the API can claim from that pool.
"""
from collections.abc import Iterable

from keystoneauth1 import adapter as ks_adapter

from cyborg_agent import api_client
from cyborg_agent.publish import pools
from cyborg_placement.vocabulary import Unit


def unit_entry(unit: Unit, root_name: str, pool_by_numa: bool) -> dict:
    key = pools.pool_key(unit, pool_by_numa)
    return {
        'pci_address': unit.address.lower(),
        'vendor_id': unit.vendor_id.lower(),
        'product_id': unit.product_id.lower(),
        'device_type': unit.device_type,
        'pool_provider_uuid': pools.provider_uuid(
            pools.provider_name(root_name, key)),
        'resource_class': key.resource_class,
        'numa_node': unit.numa_node,
        'driver': unit.driver,
    }


def build_report(units: Iterable[Unit], root_name: str,
                 pool_by_numa: bool = False) -> dict:
    """The body of ``PUT /hosts/{host}/accelerators``."""
    return {'accelerators': [unit_entry(u, root_name, pool_by_numa)
                             for u in sorted(units, key=lambda u: u.address)]}


def send_report(adapter: ks_adapter.Adapter, host: str, report: dict
                ) -> list[dict]:
    """Send the report; return the host's accelerators as the API keeps them.

    Failures are ``api_client.ApiUnreachable`` or ``ApiRefused``.
    """
    return api_client.call(adapter, 'PUT', f'/hosts/{host}/accelerators',
                           json=report)['accelerators']
