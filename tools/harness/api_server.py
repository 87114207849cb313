"""A real ``cyborg-api`` process for tests and benchmarks, and a small client.

``ApiServer`` writes a cyborg.conf (noauth, the given database and Placement),
brings the schema to head with ``cyborg-manage db sync``'s code and starts
``cyborg-api`` on a free port, as an operator would. Tests of other parts
(the agent's report, the reconciler, the CLI) reuse it through the
``api_server`` fixture or directly.
"""
import os
import pathlib
import subprocess
import sys

import requests

from cyborg_placement.db import engine
from cyborg_placement.db import migration
from tools.harness import ini
from tools.harness.server_process import free_port
from tools.harness.server_process import ServerProcess

VERSION_HEADER = {'OpenStack-API-Version': 'accelerator 1.0'}
#: The commands of the environment this process runs in.
OWN_BIN_DIR = pathlib.Path(sys.executable).parent


def migrate(database_url: str) -> None:
    """Bring the database at ``database_url`` to the migrations' head, as
    ``cyborg-manage db sync`` does, in this process."""
    database = engine.Database(database_url)
    try:
        migration.upgrade(database)
    finally:
        database.dispose()


class ApiServer(ServerProcess):
    """A ``cyborg-api`` process with its own config file."""

    def __init__(self, workdir: str | os.PathLike, database_url: str,
                 placement_url: str, *, workers: int = 2,
                 auth_strategy: str = 'noauth',
                 api_options: dict | None = None,
                 sections: dict | None = None,
                 env: dict | None = None,
                 bin_dir: str | os.PathLike | None = None) -> None:
        self.workdir = pathlib.Path(workdir).resolve()
        # The commands of the environment running the tests, unless a test
        # installed the package elsewhere (tests/functional/test_install.py).
        self.bin_dir = pathlib.Path(bin_dir or OWN_BIN_DIR)
        self.database_url = database_url
        self.placement_url = placement_url
        self.port = free_port()
        self.workers = workers
        self.auth_strategy = auth_strategy
        self.api_options = api_options or {}
        self.sections = sections or {}
        super().__init__(
            [str(self.bin_dir / 'cyborg-api'), '--config-file',
             str(self.conf_file)],
            url=f'http://127.0.0.1:{self.port}',
            log_path=self.workdir / 'cyborg-api.log', env=env or {},
            ready_path='/healthcheck', ready_status=200,
            # Forked when it runs this environment's code: a master's
            # imports cost more CPU than the tests' requests to most
            # servers. Another installation's is run as installed.
            forked=self.bin_dir == OWN_BIN_DIR)

    @classmethod
    def on_sqlite(cls, workdir: str | os.PathLike, placement_url: str,
                  **options) -> 'ApiServer':
        """A server whose database is a SQLite file in ``workdir``."""
        return cls(workdir, f'sqlite:///{workdir}/cyborg.sqlite',
                   placement_url, **options)

    @classmethod
    def on_sqlite_behind_keystone(cls, workdir: str | os.PathLike,
                                  placement_url: str, keystone,
                                  **options) -> 'ApiServer':
        """One worker on SQLite, validating tokens with ``keystone``'s
        keystonemiddleware options."""
        return cls.on_sqlite(
            workdir, placement_url, workers=1, auth_strategy='keystone',
            sections={'keystone_authtoken': keystone.authtoken_options()},
            **options)

    @property
    def conf_file(self) -> pathlib.Path:
        return self.workdir / 'cyborg.conf'

    @property
    def log_file(self) -> pathlib.Path:
        return self.log_path

    def write_conf(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        api = {'bind_host': '127.0.0.1', 'bind_port': self.port,
               'workers': self.workers, 'auth_strategy': self.auth_strategy,
               **self.api_options}
        ini.write(self.conf_file, {
            'api': api,
            'database': {'connection': self.database_url},
            'placement': ini.token_auth(self.placement_url),
            **self.sections,
        })

    def start(self, timeout: float = 60.0) -> None:
        self.write_conf()
        self.sync_schema()
        super().start(timeout)

    def sync_schema(self) -> None:
        """What ``cyborg-manage db sync`` does, in this process when the
        server runs this environment's code: the command's own start-up
        (a second of CPU, its imports) was paid again by every server the
        tests start. The command itself runs where it is installed
        (tools/local_stack.py, tests/functional/test_install.py), and for
        a server of another installation (``bin_dir``), whose schema is
        its own."""
        if self.bin_dir != OWN_BIN_DIR:
            subprocess.run([str(self.bin_dir / 'cyborg-manage'),
                            '--config-file', str(self.conf_file), 'db',
                            'sync'], check=True, capture_output=True,
                           text=True)
            return
        migrate(self.database_url)

    def client(self, **identity) -> 'ApiClient':
        return ApiClient(self.url, **identity)


class ApiClient:
    """requests with the noauth identity headers and the version header
    (``version``: another one, such as ``accelerator 2.3`` for /v2; None:
    none, as Nova sends)."""

    def __init__(self, url: str, token: str = 'admin',
                 roles: str | None = None, project_id: str | None = None,
                 user_id: str | None = None,
                 version: str | None = VERSION_HEADER['OpenStack-API-Version']
                 ) -> None:
        self.url = url
        self.session = requests.Session()
        headers = {'X-Auth-Token': token}
        if version is not None:
            headers['OpenStack-API-Version'] = version
        for name, value in (('X-Roles', roles), ('X-Project-Id', project_id),
                            ('X-User-Id', user_id)):
            if value is not None:
                headers[name] = value
        self.session.headers.update(headers)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault('timeout', 60)
        return self.session.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request('GET', path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request('POST', path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return self.request('PUT', path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request('DELETE', path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request('PATCH', path, **kwargs)


def make_host(placement, host: str, units: int = 2,
              resource_class: str = 'PGPU') -> dict:
    """A compute-node provider with one pool child of ``units`` units, in the
    real Placement, and the device report for those units.

    Returns ``{'root': uuid, 'pool': uuid, 'report': body}``.
    """
    import uuid as uuid_lib
    root = placement.post('/resource_providers', {
        'name': host, 'uuid': str(uuid_lib.uuid4())})
    pool = placement.post('/resource_providers', {
        'name': f'{host}_GPU_10DE_2330', 'uuid': str(uuid_lib.uuid4()),
        'parent_provider_uuid': root['uuid']})
    placement.put(f'/resource_providers/{pool["uuid"]}/inventories', {
        'resource_provider_generation': pool['generation'],
        'inventories': {resource_class: {'total': units, 'max_unit': units}}})
    report = {'accelerators': [{
        'pci_address': f'0000:3b:{n // 8:02x}.{n % 8}', 'vendor_id': '10de',
        'product_id': '2330', 'device_type': 'GPU',
        'pool_provider_uuid': pool['uuid'], 'resource_class': resource_class,
        'numa_node': 0, 'socket': 0, 'driver': 'vfio-pci'}
        for n in range(units)]}
    return {'root': root['uuid'], 'pool': pool['uuid'], 'report': report}
