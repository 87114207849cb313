"""Directories made once and copied many times: a server's migrated schema.

The tests start many Placement and Keystone servers, each on a database of
its own. Bringing each new database to its schema's head ran the project's
manage command again (``placement-manage db sync``: 1.4 s of CPU;
``keystone-manage db_sync``, ``fernet_setup`` and ``credential_setup``:
about 8 s), though every run made the same files. A template is made by
those same commands once per installation, under a lock every test
process shares, and each server starts from a copy of it.
"""
from collections.abc import Callable
import contextlib
import fcntl
import hashlib
import pathlib
import shutil
import sys
import tempfile

#: Templates, one directory each, shared by every process of this machine.
ROOT = pathlib.Path(tempfile.gettempdir()) / 'cyborg-harness-templates'


def copy(name: str, version: str, make: Callable[[pathlib.Path], None],
         target: pathlib.Path) -> None:
    """Copy the template ``name`` into ``target`` (made if missing).

    ``make(directory)`` fills an empty directory with the template; it runs
    once per ``name``, ``version`` (the version of what made it, so an
    upgrade makes a new one) and Python environment, in whichever process
    asks first, while the others wait for it.
    """
    template = _made(name, version, make)
    shutil.copytree(template, target, dirs_exist_ok=True)


def _made(name: str, version: str,
          make: Callable[[pathlib.Path], None]) -> pathlib.Path:
    ROOT.mkdir(exist_ok=True)
    key = hashlib.sha256(f'{sys.prefix}\0{version}'.encode()).hexdigest()
    template = ROOT / f'{name}-{key[:16]}'
    with open(ROOT / f'{template.name}.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            # Made aside and renamed into place: a template that exists is
            # whole, even after a run killed while making one.
            work = pathlib.Path(tempfile.mkdtemp(dir=ROOT))
            work.chmod(0o755)  # as a directory made by the test would be
            try:
                make(work)
                work.rename(template)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    shutil.rmtree(work)
    return template
