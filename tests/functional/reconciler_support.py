"""Reconciler tests' libvirt helper: a guest defined, or its hostdevs listed,
in a process of its own. The agent host itself is ``tools.harness.agent_host``.
"""
import pathlib
import subprocess
import sys


def guest_tool(root: pathlib.Path, command: str, instance_uuid: str) -> str:
    """Define a shut-off guest, or list its persistent hostdevs, in another
    process: an embedded libvirt root serves one process at a time, and the
    agent under test is that process while it runs."""
    done = subprocess.run(
        [sys.executable, '-m', 'tests.functional.reconciler_support',
         command, str(root), instance_uuid],
        capture_output=True, text=True, timeout=120,
        cwd=pathlib.Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _main(command: str, root: str, instance_uuid: str) -> None:
    from nova_ext.libvirt_hostdev import hostdev_addresses
    from tests.libvirt_embed import EmbeddedLibvirt
    embedded = EmbeddedLibvirt(pathlib.Path(root)).start()
    if command == 'define':
        embedded.define_guest(instance_uuid=instance_uuid)
    else:
        domain = embedded.conn.lookupByUUIDString(instance_uuid)
        print(' '.join(sorted(str(a) for a in hostdev_addresses(
            domain, persistent=True))))


if __name__ == '__main__':
    _main(*sys.argv[1:4])
