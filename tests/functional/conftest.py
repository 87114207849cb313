"""Fixtures the CLI modules share (a server of their own, and units in
it) and the data-layer modules share (a database on each backend)."""
import contextlib

import pytest

from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import migration
from tests.functional import cli_runner
from tools.harness import databases
from tools.harness.api_server import ApiServer


@pytest.fixture(scope='session')
def api(placement_server, tmp_path_factory) -> ApiServer:
    """One noauth ``cyborg-api`` on SQLite for the CLI stories, started once
    per worker: they only add records of their own hosts and names, so they
    need not share a worker to share it."""
    workdir = tmp_path_factory.mktemp('cli-api')
    server = ApiServer.on_sqlite(workdir, placement_server.url)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gpus(placement, api, tmp_path, unique_name) -> list[dict]:
    """Two GPUs of a fresh host, in Placement and in the API."""
    return cli_runner.publish_gpus(placement, api.client(), tmp_path,
                                   unique_name)


@pytest.fixture(params=['sqlite', 'postgresql', 'mysql'])
def database(request, tmp_path):
    if request.param == 'sqlite':
        url = f'sqlite:///{tmp_path}/cyborg.sqlite'
    else:
        url = request.getfixturevalue(f'{request.param}_url')
    database = db_engine.Database(url)
    migration.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture(params=['sqlite', 'postgresql', 'mysql'])
def fresh_database(request, tmp_path):
    """A database of its own, without tables, on each backend."""
    if request.param == 'sqlite':
        fresh = contextlib.nullcontext(f'sqlite:///{tmp_path}/fresh.sqlite')
    else:
        request.getfixturevalue(f'{request.param}_url')  # skipped if asked
        fresh = getattr(databases, f'fresh_{request.param}')()
    with fresh as url:
        database = db_engine.Database(url)
        yield database
        database.dispose()
