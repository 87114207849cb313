"""Authentication middleware: keystonemiddleware, or noauth for local use.

Both leave the identity in the ``X-Roles`` / ``X-Project-Id`` / ``X-User-Id``
headers that :mod:`oslo_context` reads. Version discovery (``/`` and
``/v2``), ``/healthcheck`` and ``/openapi.json`` answer without a token.
"""
import json

from keystonemiddleware import auth_token
from oslo_config import cfg

from cyborg_placement.api import errors

PUBLIC_PATHS = frozenset({'/', '', '/healthcheck', '/openapi.json', '/v2',
                          '/v2/'})
ADMIN_TOKEN = 'admin'


def _unauthorized(start_response, detail: str):
    payload = json.dumps(errors.body(401, 'Unauthorized', detail,
                                     errors.UNAUTHORIZED, None)).encode()
    start_response('401 Unauthorized', [
        ('Content-Type', 'application/json'),
        ('Content-Length', str(len(payload))),
        ('WWW-Authenticate', 'Keystone uri="local"')])
    return [payload]


class NoAuth:
    """Trust the caller, as Placement's noauth2 does.

    A token is still required; the token ``admin`` acts as an admin (in
    ``[api] default_project_id`` unless X-Project-Id names one), any other
    token with the roles and project its headers carry.
    """

    def __init__(self, application, conf: cfg.ConfigOpts) -> None:
        self.application = application
        self.conf = conf

    def __call__(self, environ, start_response):
        token = environ.get('HTTP_X_AUTH_TOKEN')
        if not token:
            return _unauthorized(start_response,
                                 'An X-Auth-Token header is required.')
        if token == ADMIN_TOKEN:
            roles = environ.get('HTTP_X_ROLES', '').split(',')
            environ['HTTP_X_ROLES'] = ','.join(
                r for r in {'admin', 'member', 'reader', *roles} if r)
            environ.setdefault('HTTP_X_PROJECT_ID',
                               self.conf.api.default_project_id)
            environ.setdefault('HTTP_X_USER_ID', self.conf.api.default_user_id)
        return self.application(environ, start_response)


class PublicPaths:
    """Send the public paths around authentication."""

    def __init__(self, application, authenticated) -> None:
        self.application = application
        self.authenticated = authenticated

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '') in PUBLIC_PATHS:
            return self.application(environ, start_response)
        return self.authenticated(environ, start_response)


def wrap(application, conf: cfg.ConfigOpts):
    """Put the configured authentication in front of ``application``."""
    if conf.api.auth_strategy == 'noauth':
        authenticated = NoAuth(application, conf)
    else:
        authenticated = auth_token.AuthProtocol(
            application, {'oslo_config_config': conf,
                          'oslo_config_project': 'cyborg'})
    return PublicPaths(application, authenticated)
