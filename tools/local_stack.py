"""Run the whole system locally on embedded defaults and show what it does.

State lives in ``.local/`` of the checkout: Placement's SQLite file and config,
the API's SQLite file, pid files, logs and the generated cyborg.conf. Running it
again reuses what is there; ``--stop`` stops the services it started.
"""
import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cyborg_agent.discovery import catalog  # noqa: E402
from cyborg_agent.discovery import sysfs_tree  # noqa: E402
from cyborg_placement.local_placement import LocalPlacement  # noqa: E402

STATE = REPO / '.local'
PLACEMENT_PORT = 8778
BIN = pathlib.Path(sys.executable).parent


def step(message: str) -> None:
    print(f'==> {message}', flush=True)


def _pidfile(name: str) -> pathlib.Path:
    return STATE / f'{name}.pid'


def _running(name: str) -> bool:
    pidfile = _pidfile(name)
    if not pidfile.exists():
        return False
    try:
        os.kill(int(pidfile.read_text()), 0)
    except (ProcessLookupError, ValueError):
        return False
    return True


def start_placement() -> str:
    server = LocalPlacement(STATE / 'placement', port=PLACEMENT_PORT)
    if _running('placement'):
        step(f'Placement already running on {server.url}')
        return server.url
    step(f'starting Placement (SQLite, noauth2) on {server.url}')
    server.prepare()
    server.start()
    _pidfile('placement').write_text(str(server.process.pid))
    return server.url


def write_conf(placement_url: str, sysfs_root: str) -> pathlib.Path:
    conf = STATE / 'cyborg.conf'
    conf.write_text(
        '[agent]\n'
        f'sysfs_root = {sysfs_root}\n'
        'manage_root_provider = true\n'
        '[placement]\n'
        'auth_type = admin_token\n'
        f'endpoint = {placement_url}\n'
        'token = admin\n')
    return conf


def discover(sysfs_root: str) -> list[dict]:
    out = subprocess.run(
        [str(BIN / 'cyborg-agent'), 'discover', '--sysfs-root', sysfs_root,
         '--format', 'json'], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def choose_sysfs_root() -> str:
    """This host's /sys, or a clearly labelled sample host when it has none."""
    found = [d for d in discover('/sys') if d.get('type')]
    if found:
        step(f'this host has {len(found)} accelerator(s): using /sys')
        return '/sys'
    sample = STATE / 'sample-host-sys'
    step('this host has no accelerators: using a SAMPLE HOST described by '
         f'a sysfs tree in {sample} (8x H100, 2x QAT 4xxx with 16 VFs)')
    if not sample.exists():
        sysfs_tree.build(sample, catalog.gpu_server())
    return str(sample)


def stop() -> None:
    for name in ('placement',):
        if _running(name):
            step(f'stopping {name}')
            os.killpg(int(_pidfile(name).read_text()), signal.SIGTERM)
        _pidfile(name).unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--stop', action='store_true',
                        help='stop the services started earlier and exit')
    args = parser.parse_args()
    STATE.mkdir(exist_ok=True)
    if args.stop:
        stop()
        return 0
    placement_url = start_placement()
    sysfs_root = choose_sysfs_root()
    conf = write_conf(placement_url, sysfs_root)
    step(f'discovery on {sysfs_root} (config {conf})')
    subprocess.run([str(BIN / 'cyborg-agent'), '--config-file', str(conf),
                    'discover'], check=True)
    step(f'services left running; stop them with: {sys.argv[0]} --stop')
    return 0


if __name__ == '__main__':
    sys.exit(main())
