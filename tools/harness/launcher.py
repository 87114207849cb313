"""Console scripts' runs forked from a process that has imported them.

The tests run the agent about 300 times, mostly ``--once``, start
``cyborg-api`` about 60 times and Placement (gunicorn) about 20 times.
From its console script, an agent run spent about 0.6 s of CPU starting
Python and importing (openstacksdk, keystoneauth, oslo.config), a
``cyborg-api`` master 1.2 to 1.9 s and a Placement worker 0.9 s, before
any work (docs/testing.md). So a test process starts a launcher per
command on its first run of it, ``python -m tools.harness.launcher NAME
COMMAND``, which imports that command's modules (only those: oslo.config's
global options of one command must not be there when another runs),
freezes them (``gc.freeze``: otherwise each run's collections and exit
walked them all, 0.5 s of CPU) and forks one child per run. The child
takes the run's argv, environment, working directory and standard
streams, as ``subprocess`` would give them, starts a session of its own
when asked (a server, which is stopped by signalling its process group),
calls what the installed console script calls (its entry point) and
leaves as that script's interpreter does (``sys.exit``: threads joined,
``atexit`` run, streams flushed). The run's pid is a real process the test
can signal; its exit status comes back as ``subprocess`` reports it
(negative for a signal). A run whose environment changes Python's own
start-up (``PYTHONPATH``: tests/functional/test_reconciler_without_libvirt.py
hides libvirt that way) is started from the executable instead.

What the console scripts themselves do is still run as installed: the
agent's daemons (:class:`tools.harness.agent_host.Daemon`), ``discover``,
``vgpu``, the unprivileged agent started through ``sudo``, Cyborg's tempest
run; ``cyborg-api`` in tests/functional/test_cmd_api.py, in the install
test and in the main job; Placement in the main job and in
tests/functional/test_harness.py. tests/functional/test_launcher.py
compares launched runs with the executable's.
"""
import gc
import importlib
import importlib.metadata
import json
import os
import pathlib
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(sys.executable).parent
#: The console scripts a launcher forks, by name, and what their runs
#: import besides the script's own module: the agent's daemon imports the
#: Placement and API clients; gunicorn's worker imports Placement's WSGI
#: package (the application itself is made in the worker, from its config).
COMMANDS = {
    'cyborg-agent': ('cyborg_agent.daemon',),
    'cyborg-api': (),
    'gunicorn': ('placement.wsgi',),
}
#: The most a request (its argv, environment and directory) may take.
MESSAGE_LIMIT = 1 << 20


class LaunchedProcess:
    """A launched run: its pid, and its exit status once it is known."""

    def __init__(self, args: list[str], pid: int, conn: socket.socket
                 ) -> None:
        self.args = args
        self.pid = pid
        self.returncode: int | None = None
        self._conn = conn
        self._status = b''

    def poll(self) -> int | None:
        if self.returncode is None:
            self._read_status(block=False)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._read_status(block=True, timeout=timeout)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _read_status(self, block: bool, timeout: float | None = None) -> None:
        """The launcher writes the exit status when the child is reaped."""
        self._conn.settimeout(timeout if block else 0.0)
        try:
            while not self._status.endswith(b'\n'):
                data = self._conn.recv(64)
                if not data:
                    raise RuntimeError(
                        f'the launcher went away before run {self.pid} '
                        'ended')
                self._status += data
        except (BlockingIOError, TimeoutError) as exc:
            if block:
                raise subprocess.TimeoutExpired(self.args, timeout) from exc
            return
        self.returncode = int(self._status)
        self._conn.close()


class Launcher:
    """This test process's launchers, one per command, each started on its
    first use: each imports only its own command's modules, so a run finds
    the module state (oslo.config's global options) its executable would."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: dict[str, subprocess.Popen] = {}
        self._addresses: dict[str, str] = {}
        # The launchers start with this environment, whatever this process
        # later does to its own: what :meth:`forks` compares with is what
        # they have.
        self._environ = dict(os.environ)
        self._startup = _startup_settings(self._environ)

    def _address_of(self, command: str) -> str:
        with self._lock:
            process = self._processes.get(command)
            if process is not None and process.poll() is None:
                return self._addresses[command]
            name = f'cyborg-launcher-{os.getpid()}-{uuid.uuid4().hex}'
            # Its stdin is a pipe only this process holds: when this process
            # ends, the launcher reads EOF and ends too.
            process = subprocess.Popen(
                [sys.executable, '-m', 'tools.harness.launcher', name,
                 command], cwd=REPO, env=self._environ,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            ready = process.stdout.readline()
            if ready != b'ready\n':
                raise RuntimeError(f'the launcher of {command} did not '
                                   f'start: {ready!r}')
            self._processes[command] = process
            self._addresses[command] = _address(name)
            return self._addresses[command]

    def forks(self, env: dict[str, str]) -> bool:
        """Whether a run with ``env`` can be forked: not when it sets
        Python's own variables (``PYTHONPATH``...) otherwise than the
        launchers had them, since Python reads them before any import."""
        return _startup_settings(env) == self._startup

    def start(self, argv: list[str], *, env: dict[str, str] | None = None,
              cwd: str | None = None, stdin: int | None = None,
              stdout: int | None = None, stderr: int | None = None,
              start_new_session: bool = False
              ) -> 'LaunchedProcess | subprocess.Popen':
        """A run of the console script named by ``argv[0]``'s last part
        (one of :data:`COMMANDS`; the run's ``argv[0]`` is the script's
        path in this environment), forked where :meth:`forks` allows, else
        the executable's. The streams are file descriptors or
        ``subprocess.DEVNULL``, as ``subprocess`` takes them; None is this
        process's. ``start_new_session``: as ``subprocess.Popen``'s."""
        command = pathlib.Path(argv[0]).name
        if command not in COMMANDS:
            raise ValueError(f'the launcher runs {sorted(COMMANDS)}, '
                             f'not {argv[0]}')
        argv = [str(BIN_DIR / command), *argv[1:]]
        env = dict(os.environ if env is None else env)
        if not self.forks(env):
            return subprocess.Popen(argv, env=env, cwd=cwd, stdin=stdin,
                                    stdout=stdout, stderr=stderr,
                                    start_new_session=start_new_session)
        address = self._address_of(command)
        request = json.dumps({
            'argv': argv, 'env': env, 'cwd': cwd or os.getcwd(),
            'new_session': start_new_session}).encode()
        devnull = os.open(os.devnull, os.O_RDWR)
        try:
            # None: this process's own descriptor, as subprocess inherits it.
            fds = [inherited if stream is None
                   else devnull if stream == subprocess.DEVNULL else stream
                   for inherited, stream in enumerate((stdin, stdout, stderr))]
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(address)
            socket.send_fds(conn, [len(request).to_bytes(4, 'big') + request],
                            fds)
        finally:
            os.close(devnull)
        pid = b''
        while not pid.endswith(b'\n'):
            data = conn.recv(32)
            if not data:
                raise RuntimeError(f'the launcher refused a run of {command}')
            pid += data
        return LaunchedProcess(argv, int(pid), conn)

    def run(self, argv: list[str], *, env: dict[str, str] | None = None,
            timeout: float | None = None) -> subprocess.CompletedProcess:
        """What ``subprocess.run(argv, env=env, capture_output=True,
        text=True, timeout=timeout)`` gives for ``argv``'s console script, forked
        or not (:meth:`start`: both kinds of process are waited for and
        killed alike)."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            process = self.start(argv, env=env, stdout=out_w, stderr=err_w)
        finally:
            os.close(out_w)
            os.close(err_w)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            output = _read_until_closed({out_r: [], err_r: []}, deadline)
            process.wait(None if deadline is None
                         else max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise subprocess.TimeoutExpired(argv, timeout) from None
        finally:
            os.close(out_r)
            os.close(err_r)
        return subprocess.CompletedProcess(
            argv, process.returncode, output[out_r], output[err_r])


def _read_until_closed(chunks: dict[int, list[bytes]],
                       deadline: float | None) -> dict[int, str]:
    """Everything written to the pipes until every writer closed them."""
    with selectors.DefaultSelector() as selector:
        for fd in chunks:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            wait = (None if deadline is None
                    else deadline - time.monotonic())
            if wait is not None and wait <= 0:
                raise subprocess.TimeoutExpired('a launched run', wait)
            for key, _ in selector.select(wait):
                data = os.read(key.fd, 65536)
                if data:
                    chunks[key.fd].append(data)
                else:
                    selector.unregister(key.fd)
    return {fd: b''.join(parts).decode() for fd, parts in chunks.items()}


def _startup_settings(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items()
            if name.startswith('PYTHON')}


def _address(name: str) -> str:
    """The launcher's socket, in Linux's abstract namespace: no file that a
    test's cleanup of its temporary directory (Nova's harness) can remove."""
    return '\0' + name


#: This process's launcher.
LAUNCHER = Launcher()


# The launcher process.

def _entry_point(command: str) -> importlib.metadata.EntryPoint:
    """What the installed console script ``command`` calls."""
    (entry_point,) = importlib.metadata.entry_points(
        group='console_scripts', name=command)
    return entry_point


def _preload(command: str) -> None:
    """What ``command``'s runs import, imported once before the forks."""
    for module in (_entry_point(command).module, *COMMANDS[command]):
        importlib.import_module(module)


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    message, fds, _, _ = socket.recv_fds(conn, MESSAGE_LIMIT, 3)
    length = int.from_bytes(message[:4], 'big')
    message = message[4:]
    while len(message) < length:
        message += conn.recv(length - len(message))
    return json.loads(message), fds


def serve(name: str, command: str) -> tuple[dict, list[int]] | None:
    """Fork a child per request for a run of ``command`` until stdin
    closes. Returns in the child, with its request, so that it leaves by
    the interpreter's own exit; returns None in the launcher when it is
    time to stop."""
    _preload(command)
    # What is here now lives as long as the runs: frozen, a run's
    # collections and its interpreter's exit do not walk it (0.5 s of CPU
    # a run, unfrozen).
    gc.freeze()
    launcher_pid = os.getpid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(_address(name))
    listener.listen(16)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    print('ready', flush=True)
    try:
        while True:
            for key, _ in selector.select():
                if key.fileobj is sys.stdin:
                    if not os.read(sys.stdin.fileno(), 64):
                        return None
                elif key.fileobj is listener:
                    conn, _ = listener.accept()
                    request, fds = _receive(conn)
                    pid = os.fork()
                    if pid == 0:
                        # Nothing of the launcher's stays open in the run.
                        for other in list(selector.get_map().values()):
                            if other.data is not None:  # another run
                                os.close(other.fd)
                                other.data[1].close()
                        selector.close()
                        listener.close()
                        conn.close()
                        return request, fds
                    for fd in fds:
                        os.close(fd)
                    conn.sendall(f'{pid}\n'.encode())
                    selector.register(os.pidfd_open(pid),
                                      selectors.EVENT_READ, (pid, conn))
                else:
                    pid, conn = key.data
                    _, status = os.waitpid(pid, 0)
                    selector.unregister(key.fileobj)
                    os.close(key.fileobj)
                    try:
                        conn.sendall(
                            f'{os.waitstatus_to_exitcode(status)}\n'.encode())
                    except OSError:
                        pass  # the test went away; nobody waits for it
                    conn.close()
    finally:
        if os.getpid() == launcher_pid:
            listener.close()


def become(request: dict, fds: list[int]) -> None:
    """The child takes its run's session, streams, environment, directory
    and argv."""
    if request['new_session']:
        os.setsid()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in set(fds) - {0, 1, 2}:
        os.close(fd)
    os.chdir(request['cwd'])
    os.environ.clear()
    os.environ.update(request['env'])
    sys.argv = request['argv']


if __name__ == '__main__':
    name, command = sys.argv[1:3]
    child = serve(name, command)
    if child is not None:
        become(*child)
        sys.exit(_entry_point(command).load()())
