"""The Flask application factory: routes, context, versions, error bodies."""
import dataclasses
import uuid

import flask
from oslo_config import cfg
from oslo_log import log as logging
from oslo_policy import policy as oslo_policy
from werkzeug import exceptions as http_exceptions

from cyborg_placement import rpc
from cyborg_placement import wakeup
from cyborg_placement.api import auth
from cyborg_placement.api import context as request_context
from cyborg_placement.api import errors
from cyborg_placement.api import json_body
from cyborg_placement.api import microversion
from cyborg_placement.api import policy
from cyborg_placement.api import routes
from cyborg_placement.attach import flow
from cyborg_placement.db import engine as db_engine
from cyborg_placement.notifications import emit
from cyborg_placement.placement import client as placement_client

LOG = logging.getLogger(__name__)

@dataclasses.dataclass
class AppState:
    services: flow.Services
    enforcer: oslo_policy.Enforcer

    @property
    def db(self) -> db_engine.Database:
        return self.services.db

    @property
    def conf(self) -> cfg.ConfigOpts:
        return self.services.conf


def _error_response(error: errors.ApiError):
    request_id = getattr(flask.g, 'request_id', None)
    payload = errors.body(error.status, error.title, error.detail,
                          error.code, request_id)
    if microversion.range_for(flask.request.path) is microversion.V2:
        payload['error_message'] = errors.cyborg_message(error.status,
                                                         error.detail)
    response = flask.jsonify(payload)
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _translate(exc: Exception) -> errors.ApiError:
    if isinstance(exc, errors.ApiError):
        return exc
    domain = errors.from_domain(exc)
    if domain is not None:
        return domain
    if isinstance(exc, placement_client.PlacementUnreachable):
        return errors.ServiceUnavailable(str(exc))
    if isinstance(exc, http_exceptions.MethodNotAllowed):
        return errors.MethodNotAllowed(
            f'{flask.request.method} is not allowed here.',
            headers={'Allow': ', '.join(exc.valid_methods or ())})
    if isinstance(exc, http_exceptions.NotFound):
        return errors.NotFound(f'No resource at {flask.request.path}.')
    if isinstance(exc, http_exceptions.HTTPException):
        error = errors.ApiError(exc.description or exc.name,
                                f'api.{exc.name.lower().replace(" ", "_")}')
        error.status, error.title = exc.code, exc.name
        return error
    LOG.exception('Unexpected error in %s %s', flask.request.method,
                  flask.request.path)
    return errors.ApiError('An unexpected error happened; see the API log.')


def _before_request():
    flask.g.request_id = f'req-{uuid.uuid4()}'
    flask.g.context = request_context.RequestContext.from_environ(
        flask.request.environ, request_id=flask.g.request_id)
    served = microversion.range_for(flask.request.path)
    flask.g.version = served.min
    flask.g.version = microversion.negotiate(flask.request.headers, served)


def _after_request(response):
    response.headers[microversion.HEADER] = microversion.header_value(
        getattr(flask.g, 'version', microversion.MIN_VERSION))
    response.headers['Vary'] = microversion.HEADER
    response.headers['X-OpenStack-Request-Id'] = getattr(
        flask.g, 'request_id', '')
    return response


def make_flask_app(state: AppState) -> flask.Flask:
    app = flask.Flask(__name__)
    app.json = json_body.OrjsonProvider(app)
    app.url_map.strict_slashes = False
    app.extensions['cyborg'] = state
    for path, methods in routes.ROUTES.items():
        for method, handler in methods.items():
            app.add_url_rule(path, endpoint=handler.__name__,
                             view_func=handler, methods=[method])
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.register_error_handler(
        Exception, lambda exc: _error_response(_translate(exc)))
    return app


def _observe(db: db_engine.Database, conf: cfg.ConfigOpts) -> None:
    """Wake-ups to agents with ``[DEFAULT] transport_url``, notifications
    with ``[oslo_messaging_notifications] driver``; else neither."""
    if rpc.configured(conf):
        db.observe(wakeup.Wakeups(conf))
        LOG.info('Waking host agents over %s', rpc.EXCHANGE)
    notifications = emit.Notifications(conf)
    if notifications.enabled:
        db.observe(notifications)


def create_app(conf: cfg.ConfigOpts):
    """The WSGI application for ``conf``: Flask behind authentication."""
    services = flow.Services(
        db=db_engine.Database(conf.database.connection),
        placement=placement_client.PlacementClient.from_conf(conf),
        conf=conf)
    _observe(services.db, conf)
    state = AppState(services, policy.get_enforcer(conf))
    return auth.wrap(make_flask_app(state).wsgi_app, conf)
