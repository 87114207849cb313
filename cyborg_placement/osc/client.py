"""The accelerator API as the CLI calls it: one keystoneauth adapter, typed errors.

Every failure becomes :class:`ApiError`, whose text is one line: cliff prints
it on stderr and exits 1, so an operator sees the API's own ``detail`` (from
the OpenStack error body) instead of a traceback.
"""
from urllib import parse

from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

from cyborg_placement import error_body

SERVICE_TYPE = 'accelerator'
#: The list body's key, as the seed spec names it.
LIST_KEY = 'accelerator'
#: The API's default and maximum page size.
PAGE_SIZE = 1000
#: What the API's noauth mode takes as an admin (see docs/cli.md).
NOAUTH_TOKEN = 'admin'


class ApiError(Exception):
    """A refused or failed call; ``str()`` is the one line users see."""

    def __init__(self, message: str, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _one_line(text: str) -> str:
    return ' '.join(text.split())


def error_from_response(response) -> ApiError:
    """The API's ``detail`` (and code) when the body is an OpenStack error."""
    detail, code = error_body.detail_and_code(response)
    where = f'HTTP {response.status_code}' + (f', {code}' if code else '')
    return ApiError(_one_line(f'{detail} ({where})'),
                    response.status_code, code)


def _seg(value: str) -> str:
    """A path segment: whatever the user typed stays inside it."""
    return parse.quote(value, safe='')


class AcceleratorClient:
    """Calls of the accelerator API, version ``microversion``."""

    def __init__(self, session: ks_session.Session, endpoint: str | None,
                 microversion: str, noauth: bool = False) -> None:
        # With --os-auth-type none the session would send keystoneauth's
        # placeholder token; our noauth API wants the token "admin", so
        # these requests carry it instead of the session's.
        headers = {'X-Auth-Token': NOAUTH_TOKEN} if noauth else {}
        self._authenticated = not noauth
        self._adapter = adapter.Adapter(
            session, service_type=SERVICE_TYPE, endpoint_override=endpoint,
            default_microversion=microversion, additional_headers=headers)

    def _call(self, method: str, path: str, **kwargs):
        try:
            response = self._adapter.request(
                path, method, raise_exc=False,
                authenticated=self._authenticated, **kwargs)
        except ks_exc.EndpointNotFound:
            raise ApiError(
                f'No {SERVICE_TYPE!r} endpoint in the service catalog: '
                f'register one, or give --os-endpoint with --os-auth-type '
                f'admin_token or none.') from None
        except ks_exc.ClientException as exc:
            raise ApiError(_one_line(
                f'Cannot reach the accelerator API: {exc}')) from None
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def list(self, **filters: str) -> list[dict]:
        """Every accelerator matching ``filters``, following the pages."""
        params = {k: v for k, v in filters.items() if v is not None}
        params['limit'] = PAGE_SIZE
        found: list[dict] = []
        while True:
            page = self._call('GET', '/accelerators',
                              params=params).json()[LIST_KEY]
            found += page
            if len(page) < PAGE_SIZE:
                return found
            params['marker'] = page[-1]['uuid']

    def get(self, uuid: str) -> tuple[dict, str | None]:
        """The accelerator and its ``ETag``, for a later ``If-Match``."""
        response = self._call('GET', f'/accelerators/{_seg(uuid)}')
        return response.json(), response.headers.get('ETag')

    def create(self, name: str, uuid: str | None = None,
               acc_specs: dict | None = None) -> dict:
        """Create, then read the record back from ``Location`` (201 has no body)."""
        body: dict = {'name': name}
        if uuid is not None:
            body['uuid'] = uuid
        if acc_specs is not None:
            body['acc_specs'] = acc_specs
        response = self._call('POST', '/accelerators', json=body)
        created = parse.urlsplit(response.headers['Location']).path
        return self.get(created.rstrip('/').rsplit('/', 1)[-1])[0]

    def set_specs(self, uuid: str, acc_specs: dict,
                  if_match: str | None) -> dict:
        headers = {'If-Match': if_match} if if_match else {}
        return self._call('PUT', f'/accelerators/{_seg(uuid)}/acc_specs',
                          json={'acc_specs': acc_specs},
                          headers=headers).json()

    def set_disabled(self, uuid: str, disabled: bool,
                     reason: str | None = None) -> dict:
        body = {'disabled': disabled}
        if reason is not None:
            body['reason'] = reason
        return self._call('PUT', f'/accelerators/{_seg(uuid)}/disabled',
                          json=body).json()

    def attach(self, uuid: str, instance_uuid: str | None = None,
               host: str | None = None, driver: str | None = None) -> dict:
        body = ({'instance_uuid': instance_uuid} if instance_uuid
                else {'host': host})
        if driver is not None:
            body['driver'] = driver
        return self._call('PUT', f'/accelerators/{_seg(uuid)}', json=body).json()

    def detach(self, uuid: str) -> None:
        self._call('DELETE', f'/accelerators/{_seg(uuid)}')
