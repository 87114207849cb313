"""Run a real openstack-placement server on loopback for local use and tests.

The demo, the functional tests and the benchmarks all need the same thing: a
Placement with noauth2 on a SQLite file, one gunicorn worker (SQLite allows one
writer), on a free port. ``openstack-placement`` is only needed by them, so it is
imported by the child process, never here.
"""
import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import requests

PLACEMENT_CONF = """\
[DEFAULT]
debug = false
[api]
auth_strategy = noauth2
[placement_database]
connection = sqlite:///{db}
sync_on_startup = false
"""


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class LocalPlacement:
    """A Placement server process with its own config dir and database."""

    def __init__(self, workdir: str | os.PathLike, port: int | None = None,
                 host: str = '127.0.0.1') -> None:
        self.workdir = pathlib.Path(workdir).resolve()
        self.host = host
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f'http://{self.host}:{self.port}'

    @property
    def conf_file(self) -> pathlib.Path:
        return self.workdir / 'placement.conf'

    def _bin(self, name: str) -> str:
        return str(pathlib.Path(sys.executable).parent / name)

    def prepare(self) -> None:
        """Write ``placement.conf`` and create the schema (idempotent)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        db = self.workdir / 'placement.sqlite'
        self.conf_file.write_text(PLACEMENT_CONF.format(db=db))
        subprocess.run(
            [self._bin('placement-manage'), '--config-file',
             str(self.conf_file), 'db', 'sync'],
            check=True, capture_output=True, text=True)

    def start(self, timeout: float = 60.0) -> None:
        if self.process and self.process.poll() is None:
            return
        if not self.conf_file.exists():
            self.prepare()
        env = dict(os.environ, OS_PLACEMENT_CONFIG_DIR=str(self.workdir))
        log = open(self.workdir / 'placement.log', 'ab')
        self.process = subprocess.Popen(
            [self._bin('gunicorn'), '-w', '1', '--no-control-socket',
             '--threads', '1', '-b', f'{self.host}:{self.port}',
             '--log-level', 'warning', 'placement.wsgi.api:application'],
            env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f'placement exited with {self.process.returncode}; see '
                    f'{self.workdir / "placement.log"}')
            try:
                if requests.get(self.url + '/', timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f'placement not ready on {self.url} in {timeout}s')

    def stop(self) -> None:
        if not self.process or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
