"""``cyborg-agent``: the per-host daemon, and ``cyborg-agent discover``.

``cyborg-agent [--config-file F] [--once]`` runs discovery and publication every
``[agent] report_interval`` seconds (or one cycle). ``cyborg-agent discover
[--sysfs-root DIR] [--format table|json]`` prints what discovery finds and
changes nothing. ``cyborg-agent vgpu make|delete ...`` makes or deletes one
vGPU (see :mod:`cyborg_agent.cmd.vgpu`).
"""
import sys

from oslo_config import cfg

from cyborg_agent.cmd import vgpu
from cyborg_placement import conf as cyborg_conf
from cyborg_placement import service

CONF = cyborg_conf.CONF


def _add_discover_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        'discover', help='Print the PCI functions discovery finds.')
    parser.add_argument('--sysfs-root',
                        help='Read this tree instead of [agent] sysfs_root.')
    parser.add_argument('--format', choices=('table', 'json'),
                        default='table', help='Output format.')
    vgpu.add_parser(subparsers)


DAEMON_OPTS = [
    cfg.BoolOpt('once', default=False,
                help='Run one discovery and publication cycle, then exit.'),
]
DISCOVER_OPTS = [
    cfg.SubCommandOpt('command', handler=_add_discover_parser,
                      title='Commands'),
]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if 'discover' in argv:
        from cyborg_agent.cmd import discover
        service.prepare(argv, CONF, DISCOVER_OPTS)
        return discover.run(CONF, CONF.command)
    if 'vgpu' in argv:
        service.prepare(argv, CONF, DISCOVER_OPTS)
        return vgpu.run(CONF, CONF.command)
    from cyborg_agent import daemon
    service.prepare(argv, CONF, DAEMON_OPTS)
    return daemon.run(CONF, once=CONF.once)


if __name__ == '__main__':
    sys.exit(main())
