"""Return a Placement server to an empty state between tests, through its API."""
from cyborg_placement.placement.client import PlacementClient


def wipe(client: PlacementClient) -> None:
    """Delete every allocation and provider (children first).

    Custom traits and resource classes stay: they are global names that tests
    may share, and re-creating them is idempotent.
    """
    providers = client.get('/resource_providers')['resource_providers']
    consumers = set()
    for provider in providers:
        allocations = client.get(
            f'/resource_providers/{provider["uuid"]}/allocations')
        consumers.update(allocations['allocations'])
    for consumer in consumers:
        client.delete(f'/allocations/{consumer}')
    remaining = {p['uuid']: p for p in providers}
    while remaining:
        parents = {p['parent_provider_uuid'] for p in remaining.values()}
        leaves = [u for u in remaining if u not in parents]
        for provider_uuid in leaves:
            client.delete(f'/resource_providers/{provider_uuid}')
            del remaining[provider_uuid]
