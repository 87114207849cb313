"""The in-process tier: our Flask app and a real Placement in the test process.

No server process is started and no port is opened, so the whole tier runs in
seconds and a change to one handler is checked in seconds; the functional tier
(tests/functional) runs the same parts as the services they are.

- Placement is openstack-placement's own WSGI application, set up by its
  ``PlacementFixture`` as Nova's functional tests do: a private ConfigOpts,
  ``noauth2``, an in-memory SQLite database per test, and wsgi-intercept
  answering for a made-up endpoint. Our ``PlacementClient`` reaches it over
  HTTP through keystoneauth and ``requests``, as it reaches a real server.
- The API is our Flask application, built as ``cyborg-api`` builds it (noauth
  in front, a SQLite database at the migrations' head), called through
  Flask's test client.

The fixtures keep the names of the functional tier's (``placement``,
``admin``), so a test reads the same in both tiers.
"""
import pathlib
import shutil
from unittest import mock

import flask
import flask.testing
from oslo_config import cfg
from placement.tests.functional.fixtures import placement as placement_fixture
import pytest

from cyborg_placement.api import app as api_app
from cyborg_placement.api import auth
from cyborg_placement.api import microversion
from cyborg_placement.api import policy
from cyborg_placement.attach import flow
from cyborg_placement.db import engine as db_engine
from cyborg_placement.placement.client import PlacementClient
from tests.conftest import make_conf
from tools.harness import ini
from tools.harness.api_server import migrate


@pytest.fixture
def placement_endpoint() -> str:
    """The URL of a fresh in-process Placement, for this test only."""
    fixture = placement_fixture.PlacementFixture()
    # oslo.db's test provisioning registers its [database] options on the
    # global CONF, where cyborg_placement.conf has registered our own
    # [database] connection (DuplicateOptError): it gets a global of its own.
    with mock.patch.object(cfg, 'CONF', cfg.ConfigOpts()):
        fixture.setUp()
    yield fixture.endpoint
    fixture.cleanUp()


@pytest.fixture
def placement(placement_endpoint, tmp_path) -> PlacementClient:
    """A client on this test's in-process Placement."""
    return PlacementClient.from_conf(make_conf(
        tmp_path, {'placement': ini.token_auth(placement_endpoint)}))


@pytest.fixture(scope='session')
def migrated_database(tmp_path_factory) -> pathlib.Path:
    """A SQLite file brought to head by ``cyborg-manage db sync``'s code,
    once; each test works on a copy."""
    path = tmp_path_factory.mktemp('api-database') / 'cyborg.sqlite'
    migrate(f'sqlite:///{path}')
    return path


@pytest.fixture
def api_conf(tmp_path, migrated_database, placement_endpoint) -> cfg.ConfigOpts:
    """cyborg.conf of an API on a fresh database and this test's Placement."""
    database = tmp_path / 'cyborg.sqlite'
    shutil.copy(migrated_database, database)
    return make_conf(tmp_path, {
        'api': {'auth_strategy': 'noauth'},
        'database': {'connection': f'sqlite:///{database}'},
        'placement': ini.token_auth(placement_endpoint)})


@pytest.fixture
def make_app():
    """Build the API for a cyborg.conf, as ``create_app`` does, but keep the
    Flask application (for its test client) and close its database after."""
    made = []

    def make(conf: cfg.ConfigOpts) -> flask.Flask:
        services = flow.Services(
            db=db_engine.Database(conf.database.connection),
            placement=PlacementClient.from_conf(conf), conf=conf)
        app = api_app.make_flask_app(
            api_app.AppState(services, policy.get_enforcer(conf)))
        app.wsgi_app = auth.wrap(app.wsgi_app, conf)
        made.append(services.db)
        return app
    yield make
    for database in made:
        database.dispose()


@pytest.fixture
def app(make_app, api_conf) -> flask.Flask:
    return make_app(api_conf)


@pytest.fixture
def caller(app):
    """A test client with a caller's noauth identity: the token ``admin``
    acts as an admin, any other token with the given roles and project."""
    def make(token: str = 'admin', roles: str | None = None,
             project_id: str | None = None, user_id: str | None = None
             ) -> flask.testing.FlaskClient:
        client = app.test_client()
        client.environ_base.update({
            'HTTP_X_AUTH_TOKEN': token,
            'HTTP_OPENSTACK_API_VERSION':
                f'{microversion.SERVICE_TYPE} {microversion.MAX_VERSION}'})
        for header, value in (('HTTP_X_ROLES', roles),
                              ('HTTP_X_PROJECT_ID', project_id),
                              ('HTTP_X_USER_ID', user_id)):
            if value is not None:
                client.environ_base[header] = value
        return client
    return make


@pytest.fixture
def admin(caller) -> flask.testing.FlaskClient:
    return caller()


@pytest.fixture
def service(caller) -> flask.testing.FlaskClient:
    """The agent and the host reconciler: the ``service`` role."""
    return caller(token='agent', roles='service', project_id='svc')


@pytest.fixture
def anonymous(app) -> flask.testing.FlaskClient:
    """A caller without a token."""
    return app.test_client()
