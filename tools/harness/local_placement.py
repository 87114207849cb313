"""Run a real openstack-placement server on loopback for local use and tests.

The demo, the functional tests and the benchmarks all need the same thing: a
Placement on a SQLite file, one gunicorn worker (SQLite allows one writer), on a
free port; noauth2 by default, Keystone when given a ``[keystone_authtoken]``.
The fleet benchmark runs it as clouds do instead: on a MySQL/MariaDB database
(``database_url``) with several worker processes (``workers``).
``openstack-placement`` is only needed by them, so it is imported by the child
process, never here. The tests' servers are forked (``forked``) by the test
process's launcher (:mod:`tools.harness.launcher`), which imported
Placement's WSGI package once: a worker started from the executable spent
0.9 s of CPU importing it.

A SQLite database starts as a copy of one ``placement-manage db sync`` made
once for this installation of Placement (:mod:`tools.harness.templates`),
unless ``sync_schema`` asks for the command itself, as the demo does: it
runs Placement as an operator would.
"""
import importlib.metadata
import os
import pathlib
import subprocess
import sys

from tools.harness import ini
from tools.harness import templates
from tools.harness.server_process import free_port
from tools.harness.server_process import ServerProcess


class LocalPlacement(ServerProcess):
    """A Placement server process with its own config dir and database."""

    def __init__(self, workdir: str | os.PathLike, port: int | None = None,
                 host: str = '127.0.0.1',
                 keystone_authtoken: dict[str, str] | None = None,
                 database_url: str | None = None, workers: int = 1,
                 sync_schema: bool = False, forked: bool = False) -> None:
        if workers > 1 and database_url is None:
            raise ValueError('several Placement workers need a database '
                             'server: SQLite allows one writer')
        self.workdir = pathlib.Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.keystone_authtoken = keystone_authtoken
        self.sync_schema = sync_schema or database_url is not None
        self.database_url = (database_url or
                             f'sqlite:///{self.workdir / "placement.sqlite"}')
        bindir = pathlib.Path(sys.executable).parent
        self._manage = str(bindir / 'placement-manage')
        super().__init__(
            [str(bindir / 'gunicorn'), '-w', str(workers), '--threads', '1',
             '--no-control-socket', '-b', f'{host}:{self.port}',
             '--log-level', 'warning', 'placement.wsgi.api:application'],
            url=f'http://{host}:{self.port}',
            log_path=self.workdir / 'placement.log',
            env={'OS_PLACEMENT_CONFIG_DIR': str(self.workdir)},
            forked=forked)

    @property
    def conf_file(self) -> pathlib.Path:
        return self.workdir / 'placement.conf'

    def prepare(self) -> None:
        """Write ``placement.conf`` and create the schema (idempotent)."""
        sections = {
            'DEFAULT': {'debug': 'false'},
            'api': {'auth_strategy': 'keystone' if self.keystone_authtoken
                    else 'noauth2'},
            'placement_database': {
                'connection': self.database_url,
                'sync_on_startup': 'false'},
        }
        if self.keystone_authtoken:
            sections['keystone_authtoken'] = self.keystone_authtoken
        ini.write(self.conf_file, sections)
        if self.sync_schema:
            self._db_sync(self.conf_file)
        elif not (self.workdir / 'placement.sqlite').exists():
            templates.copy('placement',
                           importlib.metadata.version('openstack-placement'),
                           self._make_template, self.workdir)

    def _db_sync(self, conf_file: pathlib.Path) -> None:
        subprocess.run([self._manage, '--config-file', str(conf_file),
                        'db', 'sync'], check=True, capture_output=True)

    def _make_template(self, directory: pathlib.Path) -> None:
        """``placement.sqlite`` at the schema's head, made by the command."""
        conf_file = directory / 'placement-template.conf'
        ini.write(conf_file, {'placement_database': {
            'connection': f'sqlite:///{directory / "placement.sqlite"}'}})
        self._db_sync(conf_file)
        conf_file.unlink()

    def start(self, timeout: float = 60.0) -> None:
        if not self.conf_file.exists():
            self.prepare()
        super().start(timeout)
