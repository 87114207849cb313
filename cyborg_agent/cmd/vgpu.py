"""``cyborg-agent vgpu make|delete``: make or delete one vGPU on this host.

nova-compute's driver runs this command to make a bound vGPU before the
guest starts and delete it when the instance leaves (nova_ext/vgpu.py):
Nova's configuration and ours cannot share a process (nova_ext/conf.py),
so the driver reaches the agent's privileged module through the agent's
own command, which reads cyborg.conf and starts the privileged daemon as
the agent does (``[privsep_sysfs]``). Exit status: 0 done (or already
so), 3 refused (the VF cannot hold this vGPU now, or an argument is not
one the entry points take), 1 any other failure; the reason on stderr.

A vGPU made or deleted changes what its GPU can still make: with
``[DEFAULT] transport_url`` the command then asks this host's agent to
publish at once (:func:`wakeup.ask_to_publish`), so Placement stops
offering what the GPU cannot make within a cycle's time, not a
``report_interval``'s.
"""
import sys

from oslo_config import cfg

from cyborg_agent import vgpus
from cyborg_placement.placement import hostname

REFUSED = 3


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        'vgpu', help='Make or delete one vGPU (for nova-compute).')
    parser.add_argument('action', choices=('make', 'delete'))
    parser.add_argument('--interface', choices=vgpus.INTERFACES,
                        required=True)
    parser.add_argument('--address', required=True,
                        help='PCI address of the VF.')
    parser.add_argument('--type', required=True,
                        help='Vendor-VFIO type id, or mdev type name.')
    parser.add_argument('--mdev-uuid', help="The mdev's UUID (mdev only).")


def run(conf: cfg.ConfigOpts, command) -> int:
    # Here, not at the top: ``cyborg-agent`` imports this module for its
    # parser, and only this command needs the privileged daemon's code and
    # oslo.messaging (each imports eventlet: a third of the agent's start).
    from cyborg_agent import privileged
    from cyborg_agent import wakeup
    from cyborg_agent.privileged import vgpu
    wanted = vgpus.Vgpu(command.interface, command.type, command.mdev_uuid)
    name, *args = (vgpus.make_call if command.action == 'make'
                   else vgpus.delete_call)(wanted, command.address)
    try:
        changed = getattr(vgpu, name)(*args)
    except privileged.Refused as exc:
        print(f'cyborg-agent vgpu: {exc.reason}', file=sys.stderr)
        return REFUSED
    except Exception as exc:  # the daemon's failure, or its start's
        print(f'cyborg-agent vgpu: {exc}', file=sys.stderr)
        return 1
    if changed:
        unsent = wakeup.ask_to_publish(conf, hostname.root_provider_name(conf))
        if unsent:
            print(f'cyborg-agent vgpu: warning: {unsent}', file=sys.stderr)
    return 0
