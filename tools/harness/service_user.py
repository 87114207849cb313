"""Run a command of this checkout as a service user (``cyborg``), as root.

The user is made as a distribution package makes it, when it is missing.
This checkout's Python may live where only root can go (pyenv under
``/root``, 0700): the command then runs in a private mount namespace in which
that directory is an empty, world-traversable tmpfs showing Python's
installation alone (bound read-only). Nothing changes on the host, and the
service user reaches nothing else of root's; the processes the command
starts (``sudo privsep-helper``) see the same.
"""
import pathlib
import pwd
import shlex
import subprocess
import sys


def ensure_user(name: str) -> pwd.struct_passwd:
    """The system user ``name`` (with its own group); made when missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        # A parallel worker may make it first: useradd then fails, harmlessly.
        subprocess.run(['useradd', '--system', '--user-group',
                        '--no-create-home', '--shell', '/usr/sbin/nologin',
                        name], capture_output=True, check=False)
        return pwd.getpwnam(name)


def _hidden_ancestor(path: pathlib.Path) -> pathlib.Path | None:
    """The first directory on ``path`` that others cannot traverse."""
    for directory in reversed(path.parents):
        if not directory.stat().st_mode & 0o001:
            return directory
    return None


def command(user: str, argv: list[str]) -> list[str]:
    """``argv`` run as ``user`` (its group only), Python made visible."""
    as_user = ['setpriv', f'--reuid={user}', f'--regid={user}',
               '--clear-groups', '--', *argv]
    python = pathlib.Path(sys.base_prefix).resolve()
    hidden = _hidden_ancestor(python)
    if hidden is None:
        return as_user
    staging = '/mnt/python'  # on a tmpfs of the namespace alone
    script = ' && '.join([
        'mount -t tmpfs -o mode=0755 tmpfs /mnt',
        f'mkdir {staging}',
        f'mount --bind -o ro {shlex.quote(str(python))} {staging}',
        f'mount -t tmpfs -o mode=0755 tmpfs {shlex.quote(str(hidden))}',
        f'mkdir -p {shlex.quote(str(python))}',
        f'mount --bind {staging} {shlex.quote(str(python))}',
        'exec ' + shlex.join(as_user)])
    return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
            script]
