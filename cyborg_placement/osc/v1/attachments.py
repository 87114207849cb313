"""``openstack accelerator attach|detach``: who holds an accelerator."""
from osc_lib import exceptions
from osc_lib.command import command

from cyborg_placement.osc.v1 import accelerators


class AttachAccelerator(command.ShowOne):
    """Attach an accelerator to an instance or to its host.

    The API claims the unit in Placement and records the attachment as
    ``attaching``; the host's agent then performs it and reports
    ``attached`` (or ``attach_failed``): "show" follows the state.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        accelerators.add_accelerator_arg(parser)
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument('--instance', metavar='<uuid>',
                            help='UUID of the instance to attach it to')
        target.add_argument('--host', metavar='<host>',
                            help='Attach it to this host (bound to a host '
                                 'driver, for the host\'s own use)')
        parser.add_argument('--driver', metavar='<driver>',
                            help='With --host: the kernel driver to bind it '
                                 'to (such as vfio-pci); default: the '
                                 'host agent\'s host_attach_rule or '
                                 'host_attach_driver')
        return parser

    def take_action(self, parsed_args):
        if parsed_args.driver is not None and parsed_args.host is None:
            raise exceptions.CommandError(
                '--driver is only valid with --host: it names the host '
                'driver a host attachment binds the unit to.')
        accelerator = accelerators.client_of(self).attach(
            parsed_args.accelerator, instance_uuid=parsed_args.instance,
            host=parsed_args.host, driver=parsed_args.driver)
        return accelerators.show_columns(accelerator)


class DetachAccelerator(command.Command):
    """Detach an accelerator from whatever holds it (no-op if nothing does)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        accelerators.add_accelerator_arg(parser)
        return parser

    def take_action(self, parsed_args):
        accelerators.client_of(self).detach(parsed_args.accelerator)
