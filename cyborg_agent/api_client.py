"""The agent's connection to the accelerator API (``[accelerator_api]``).

Loaded like the Placement client (keystoneauth session and auth from the same
kind of group), as a plain keystoneauth Adapter: the API is ours, so no SDK
proxy is involved.
"""
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from cyborg_placement import error_body
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


class ApiUnreachable(Exception):
    """The API could not be reached, failed (5xx) or is busy (429): try
    again later, after the ``retry_after`` seconds it may have asked for."""

    def __init__(self, message: str, retry_after: float | None = None
                 ) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ApiRefused(Exception):
    """The API refused the call (4xx); ``detail`` is its own explanation."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f'{status}: {detail}')
        self.status = status
        self.detail = detail


def call(adapter: ks_adapter.Adapter, method: str, url: str, **kwargs
         ) -> dict:
    """One call to the API; its JSON answer, or one of the two errors."""
    try:
        response = adapter.request(url, method, raise_exc=False, **kwargs)
    except ks_exc.ClientException as exc:
        raise ApiUnreachable(f'accelerator API unreachable: {exc}') from exc
    if response.status_code >= 400:
        detail, _code = error_body.detail_and_code(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise ApiUnreachable(
                f'accelerator API {method} {url}: {response.status_code} '
                f'{detail}', error_body.retry_after(response.headers))
        raise ApiRefused(response.status_code, detail)
    return response.json()
