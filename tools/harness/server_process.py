"""Start, wait for and stop a local HTTP server process (gunicorn and the like).

Local Placement, Keystone for tests and our own API server in tests and the demo
are all "a process that serves HTTP on loopback until told to stop".
"""
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import time

import requests

from tools.harness import waiting
from tools.harness.launcher import LaunchedProcess
from tools.harness.launcher import LAUNCHER

#: Ports handed out lately, one file each, shared by every process here.
CLAIMS = pathlib.Path(tempfile.gettempdir()) / 'cyborg-harness-ports'
#: A claim only has to outlast the time between the pick and the server's
#: bind: a bound port is never picked again while it is in use.
CLAIM_SECONDS = 600


def free_port() -> int:
    """A loopback port no other process of the tests was given lately.

    The kernel picks a free port, but once the probing socket is closed it
    may give the same one to another process (another pytest-xdist worker)
    before our server binds it; that server would then answer our
    readiness check while ours failed to bind (seen: a Keystone whose port
    another worker's server took). Each pick is claimed with a file made
    exclusively, and a port claimed by someone else is not taken.
    """
    CLAIMS.mkdir(exist_ok=True)
    while True:
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        claim = CLAIMS / str(port)
        try:
            if time.time() - claim.stat().st_mtime > CLAIM_SECONDS:
                claim.unlink(missing_ok=True)
        except FileNotFoundError:
            pass
        try:
            claim.touch(exist_ok=False)
        except FileExistsError:
            continue
        return port


class ServerProcess:
    """One server process in its own session, logging to ``log_path``;
    ``forked``: forked by this process's launcher
    (:mod:`tools.harness.launcher`: ``argv[0]`` is one of its commands)
    instead of started from the executable."""

    def __init__(self, argv: list[str], url: str, log_path: os.PathLike,
                 env: dict[str, str] | None = None,
                 ready_path: str = '/', ready_status: int | None = None,
                 forked: bool = False) -> None:
        self.argv = argv
        self.forked = forked
        self.url = url
        self.log_path = pathlib.Path(log_path)
        self.env = env
        self.ready_path = ready_path
        self.ready_status = ready_status
        self.process: subprocess.Popen | LaunchedProcess | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 60.0) -> None:
        if self.running:
            return
        with open(self.log_path, 'ab') as log:
            self.process = self.spawn(dict(os.environ, **(self.env or {})),
                                      log.fileno())
        self.wait_ready(timeout)

    def spawn(self, env: dict[str, str], log: int
              ) -> 'subprocess.Popen | LaunchedProcess':
        """The server's process, in a session of its own (:meth:`stop`
        signals its group), writing its output to the descriptor ``log``."""
        if self.forked:
            return LAUNCHER.start(self.argv, env=env, stdout=log, stderr=log,
                                  start_new_session=True)
        return subprocess.Popen(self.argv, env=env, stdout=log,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)

    def wait_ready(self, timeout: float) -> None:
        try:
            waiting.wait_for(self._ready, timeout,
                             f'{self.argv[0]} to answer on {self.url}')
        except waiting.TimedOut as exc:
            self.stop()
            raise RuntimeError(f'{exc}: {self._log_tail()}') from None

    def _ready(self) -> bool:
        """Whether the server answers as ready; an exited one never will."""
        if self.process.poll() is not None:
            raise RuntimeError(
                f'{self.argv[0]} exited with {self.process.returncode}: '
                f'{self._log_tail()}')
        try:
            answer = requests.get(self.url + self.ready_path, timeout=1)
        except requests.RequestException:
            return False
        return self.ready_status in (None, answer.status_code)

    def _log_tail(self, size: int = 3000) -> str:
        """The end of the log, so a failure in CI says why by itself."""
        try:
            text = self.log_path.read_text(errors='replace')
        except OSError:
            return f'(no log at {self.log_path})'
        return f'{self.log_path} ends with:\n{text[-size:]}'

    def stop(self) -> None:
        if not self.running:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
