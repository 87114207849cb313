"""A thin Placement client on openstacksdk's placement proxy.

The SDK's resource classes pin old microversions (resource providers at 1.20), and
nested providers, Nova's allocation-candidate query and ``in:`` traits need 1.14,
1.36 and 1.39. So this client sends raw calls through the SDK's proxy (a
keystoneauth adapter: auth, endpoint discovery, retries) with an explicit
microversion, and turns Placement's error bodies into typed exceptions.
"""
import collections
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
import openstack.connection
from oslo_config import cfg
from oslo_log import log as logging

from cyborg_placement import error_body

LOG = logging.getLogger(__name__)

#: Newest microversion we rely on (``in:`` traits); every call defaults to it.
MICROVERSION = '1.39'
#: The microversion Nova's scheduler sends ``GET /allocation_candidates`` with.
NOVA_MICROVERSION = '1.36'

WRITE_METHODS = frozenset({'PUT', 'POST', 'PATCH', 'DELETE'})


class PlacementError(Exception):
    """Placement answered with an error status."""

    def __init__(self, method: str, url: str, status: int,
                 code: str | None = None, detail: str = '') -> None:
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.detail = detail
        super().__init__(
            f'Placement {method} {url}: {status} {code or ""} {detail}'.strip())


class NotFound(PlacementError):
    pass


class Conflict(PlacementError):
    """409: a generation conflict or a duplicate name/uuid."""

    @property
    def is_generation_conflict(self) -> bool:
        return self.code == 'placement.concurrent_update'


class PlacementUnreachable(Exception):
    """Placement could not be reached at all (connection refused, timeout)."""

    def __init__(self, message: str, retry_after: float | None = None
                 ) -> None:
        super().__init__(message)
        #: Seconds Placement asked us to wait (``Retry-After``), if it did.
        self.retry_after = retry_after


class PlacementBusy(PlacementUnreachable):
    """Placement, or a proxy or rate limiter in front of it, answered 429 or
    5xx: it is there but cannot serve us now. Retried like an outage, after
    the ``Retry-After`` it may give."""


_ERRORS_BY_STATUS = {404: NotFound, 409: Conflict}


def load_session(conf: cfg.ConfigOpts, group: str):
    """A keystoneauth session with the auth plugin of ``[group]``."""
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    return ks_loading.load_session_from_conf_options(conf, group, auth=auth)


def _error_from_response(method: str, url: str, response) -> PlacementError:
    detail, code = error_body.detail_and_code(response)
    cls = _ERRORS_BY_STATUS.get(response.status_code, PlacementError)
    return cls(method, url, response.status_code, code, detail)


class PlacementClient:
    """Raw Placement calls with microversions, typed errors and a request count.

    ``counts`` keeps how many requests of each method were sent, so tests and
    benchmarks can check that a steady-state cycle writes nothing.
    """

    def __init__(self, make_adapter: Callable[[], Any],
                 microversion: str = MICROVERSION) -> None:
        self._make_adapter = make_adapter
        self._adapter = None
        self.microversion = microversion
        self.counts: collections.Counter = collections.Counter()

    @property
    def adapter(self):
        """The SDK's placement proxy, made on first use.

        Making it runs version discovery against Placement, which may be down
        when an agent starts: that must be a retryable error of a call, not a
        crash at start-up.
        """
        if self._adapter is None:
            self._adapter = self._make_adapter()
        return self._adapter

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, group: str = 'placement'
                  ) -> 'PlacementClient':
        """Build the client from keystoneauth options in ``[placement]``."""
        session = load_session(conf, group)
        connection = openstack.connection.Connection(
            session=session, oslo_conf=conf)
        return cls(lambda: connection.placement)

    @property
    def writes(self) -> int:
        return sum(n for method, n in self.counts.items()
                   if method in WRITE_METHODS)

    def request(self, method: str, url: str, *, json: Any = None,
                microversion: str | None = None,
                params: dict | None = None) -> Any:
        """Send one call; return the decoded body (``None`` when empty)."""
        self.counts[method] += 1
        try:
            response = self.adapter.request(
                url, method, json=json, params=params,
                microversion=microversion or self.microversion,
                raise_exc=False)
        except (ks_exc.ConnectionError, ks_exc.DiscoveryFailure,
                ks_exc.EndpointNotFound, ks_exc.RequestTimeout) as exc:
            raise PlacementUnreachable(f'Placement unreachable: {exc}') from exc
        except ks_exc.ClientException as exc:
            # No request was sent: no auth plugin configured, or Keystone
            # refused the credentials. Retried like an outage (Keystone or
            # the config may be fixed meanwhile), never a traceback.
            raise PlacementUnreachable(
                f'Placement unreachable (check the [placement] auth '
                f'options): {exc}') from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise PlacementBusy(
                f'Placement {method} {url}: {response.status_code} '
                f'{response.reason or ""}'.strip(),
                retry_after=error_body.retry_after(response.headers))
        if response.status_code >= 400:
            raise _error_from_response(method, url, response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, url: str, **kwargs) -> Any:
        return self.request('GET', url, **kwargs)

    def put(self, url: str, body: Any = None, **kwargs) -> Any:
        return self.request('PUT', url, json=body, **kwargs)

    def post(self, url: str, body: Any, **kwargs) -> Any:
        return self.request('POST', url, json=body, **kwargs)

    def delete(self, url: str, **kwargs) -> Any:
        return self.request('DELETE', url, **kwargs)

    # Resource helpers used by more than one caller.

    def get_provider_by_name(self, name: str) -> dict | None:
        found = self.get('/resource_providers', params={'name': name})
        providers = found['resource_providers']
        return providers[0] if providers else None

    def providers_in_tree(self, root_uuid: str) -> list[dict]:
        found = self.get('/resource_providers', params={'in_tree': root_uuid})
        return found['resource_providers']

    def ensure_resource_class(self, name: str) -> None:
        """Create a custom resource class; existing ones are left as they are."""
        self.put(f'/resource_classes/{name}')

    def ensure_traits(self, names: Iterable[str]) -> None:
        """Create the custom traits among ``names`` that do not exist: one
        read of those that do, a write per missing one (standard traits
        always exist)."""
        custom = sorted({name for name in names if name.startswith('CUSTOM_')})
        if not custom:
            return
        found = self.get('/traits', params={'name': 'in:' + ','.join(custom)})
        for name in sorted(set(custom) - set(found['traits'])):
            self.put(f'/traits/{name}')
