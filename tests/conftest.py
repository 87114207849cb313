"""Fixtures shared by unit and functional tests.

Real services: a Placement server (openstack-placement, SQLite, noauth2) started
once per session; fresh PostgreSQL and MySQL databases on the servers the test
command started. A database test is skipped only when asked to, through
``CYBORG_TEST_SKIP_POSTGRESQL=1`` / ``CYBORG_TEST_SKIP_MYSQL=1``: a missing server
otherwise fails loudly instead of hiding behind a skip.
"""
import os
import pathlib
import shutil
import socket
import urllib.parse
import uuid

from oslo_config import cfg
import pytest

from cyborg_placement.placement.client import PlacementClient
from tests import placement_state
from tests.libvirt_embed import EmbeddedLibvirt
from tools.harness import databases
from tools.harness import ini
from tools.harness import sysfs_tree
from tools.harness.local_placement import LocalPlacement

#: Fixtures of these scopes live as long as a module's (or a class's) tests.
SHARED_SCOPES = ('package', 'module', 'class')


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config,
                                  items: list[pytest.Item]):
    """Keep together, on one pytest-xdist worker, the tests that share a
    module-scoped fixture (``--dist loadgroup``, as tools/test.sh runs).

    Spread over workers, such tests would each start the module's servers
    again (a Nova world, a fleet, an install), and a module's stories, which
    may build on each other's state, would run out of order. A parametrized
    module fixture (one server per database) makes a group per value, so the
    databases run side by side. Every other test goes to whichever worker is
    free; session fixtures (Placement, the API servers, Keystone, libvirt,
    the databases) are started once per worker.
    """
    for item in items:
        group = _shared_fixture_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    yield
    # pytest-xdist puts the group into the node id ("...@group"), which is
    # all its scheduler reads; where it cannot, every group would be
    # ignored without a word.
    if getattr(config.option, 'loadgroup', False):
        untagged = [item.nodeid for item in items
                    if item.get_closest_marker('xdist_group')
                    and '@' not in item.nodeid]
        if untagged:
            raise pytest.UsageError(
                f'pytest-xdist did not tag {len(untagged)} grouped tests '
                f'(e.g. {untagged[0]}) with pytest {pytest.__version__}: '
                '--dist loadgroup would spread them over workers')


def _shared_fixture_group(item: pytest.Item) -> str | None:
    info = getattr(item, '_fixtureinfo', None)
    if info is None:
        return None
    shared = sorted(name for name, defs in info.name2fixturedefs.items()
                    if defs and defs[-1].scope in SHARED_SCOPES)
    if not shared:
        return None
    params = getattr(item, 'callspec', None)
    values = [f'{name}={params.params[name]}' for name in shared
              if params is not None and name in params.params]
    # xdist reads the group after the last "@" and only when no "]" follows.
    return ':'.join([item.module.__name__, *values]).translate(
        str.maketrans('@[]', '___'))


def make_conf(directory, sections: dict[str, dict[str, object]]
              ) -> cfg.ConfigOpts:
    """Write ``sections`` into a cyborg.conf and parse it, as a service would."""
    return ini.cyborg_conf(
        directory / f'cyborg-{uuid.uuid4().hex[:6]}.conf', sections)


def remove_virtualenv(venv: pathlib.Path) -> None:
    """Delete a virtualenv a test built, once the test is done with it.

    The main job's clone and the install test each leave a quarter to half a
    gigabyte of files. pytest keeps the temporary directories of the last
    three runs and deletes older ones as it exits: left there, they made the
    end of a later run 10 to 40 s longer (docs/testing.md)."""
    shutil.rmtree(venv)


@pytest.fixture
def conf(tmp_path) -> cfg.ConfigOpts:
    """A private ConfigOpts with every option registered and no files read."""
    return make_conf(tmp_path, {})


@pytest.fixture
def sysfs(tmp_path) -> sysfs_tree.SysfsTree:
    """An empty sysfs-like tree; tests ``add`` the functions they describe."""
    return sysfs_tree.SysfsTree(tmp_path / 'sys')


@pytest.fixture(scope='session')
def placement_server(tmp_path_factory):
    server = LocalPlacement(tmp_path_factory.mktemp('placement'), forked=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def placement(placement_server, tmp_path) -> PlacementClient:
    """A client on the session's Placement, which starts each test empty."""
    conf = make_conf(
        tmp_path, {'placement': ini.token_auth(placement_server.url)})
    client = PlacementClient.from_conf(conf)
    placement_state.wipe(client)
    client.counts.clear()
    return client


@pytest.fixture(scope='session')
def postgresql_url():
    if os.environ.get('CYBORG_TEST_SKIP_POSTGRESQL') == '1':
        pytest.skip('PostgreSQL tests skipped by CYBORG_TEST_SKIP_POSTGRESQL=1')
    with databases.fresh_postgresql() as url:
        yield url


@pytest.fixture(scope='session')
def mysql_url():
    if os.environ.get('CYBORG_TEST_SKIP_MYSQL') == '1':
        pytest.skip('MySQL tests skipped by CYBORG_TEST_SKIP_MYSQL=1')
    with databases.fresh_mysql() as url:
        yield url


@pytest.fixture(scope='session')
def rabbitmq_url() -> str:
    """The broker the test command started (``tools/start-rabbitmq.sh``).

    Tests share its default virtual host without meeting: RPC queues are
    named after each test's own hosts, notification topics are made per
    test (``unique_topic``).
    """
    if os.environ.get('CYBORG_TEST_SKIP_RABBITMQ') == '1':
        pytest.skip('RabbitMQ tests skipped by CYBORG_TEST_SKIP_RABBITMQ=1')
    url = os.environ.get('CYBORG_TEST_RABBITMQ_URL',
                         'rabbit://guest:guest@127.0.0.1:5672/')
    parsed = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port), 5).close()
    except OSError as exc:
        raise RuntimeError(
            f'RabbitMQ at {url} is not reachable: {exc}. Start it '
            '(tools/test.sh does) or set CYBORG_TEST_SKIP_RABBITMQ=1.'
        ) from exc
    return url


@pytest.fixture(scope='session')
def libvirt_embed_session(tmp_path_factory):
    embedded = EmbeddedLibvirt(tmp_path_factory.mktemp('libvirt')).start()
    yield embedded
    embedded.stop()


@pytest.fixture
def libvirt_embed(libvirt_embed_session) -> EmbeddedLibvirt:
    """The session's embedded QEMU driver (one per process), no guests."""
    libvirt_embed_session.wipe()
    return libvirt_embed_session


@pytest.fixture
def unique_name() -> str:
    return f'host-{uuid.uuid4().hex[:8]}'


#: The database backends the session's API servers run on.
API_BACKENDS = ('sqlite', 'postgresql')


@pytest.fixture(scope='session')
def api_servers(placement_server, tmp_path_factory, request):
    """The session's ``cyborg-api`` (noauth, 2 workers) on a database
    backend, started the first time a test asks for that backend (the
    PostgreSQL database fixture too, which then outlives the servers).

    A test may use several at once: the fuzz sends each request it
    generates to both, instead of generating the same requests twice.
    """
    from tools.harness.api_server import ApiServer
    started = {}

    def server_on(backend: str) -> ApiServer:
        if backend not in started:
            workdir = tmp_path_factory.mktemp(f'cyborg-api-{backend}')
            if backend == 'sqlite':
                url = f'sqlite:///{workdir}/cyborg.sqlite'
            else:
                url = request.getfixturevalue('postgresql_url')
            server = ApiServer(workdir, url, placement_server.url)
            server.start()
            started[backend] = server
        return started[backend]

    yield server_on
    for server in started.values():
        server.stop()


@pytest.fixture(scope='session', params=API_BACKENDS)
def api_server(request, api_servers):
    """The session's ``cyborg-api`` on each database backend in turn.

    Shared by the session: tests use their own hosts and names. More servers
    (other options, crash points) come from :class:`tools.harness.api_server.ApiServer`.
    """
    return api_servers(request.param)


@pytest.fixture
def admin(api_server):
    """An admin's client (noauth token ``admin``) of the session's API server."""
    return api_server.client()


@pytest.fixture(scope='session')
def keystone(tmp_path_factory):
    """A real Keystone with an ``admin`` user and a catalog tests add to."""
    from tests.keystone_server import LocalKeystone
    server = LocalKeystone(tmp_path_factory.mktemp('keystone'))
    server.prepare()
    server.start()
    yield server
    server.stop()
