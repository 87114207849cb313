"""Fixtures the CLI modules share: a server of their own, and units in it."""
import pytest

from tests.functional import cli_runner
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
