"""``openstack accelerator list|show|create|set|attach|detach``."""
import argparse
import logging

from osc_lib.cli import format_columns
from osc_lib.command import command

from cyborg_placement.osc import client as api_client
from cyborg_placement.osc import specs

LOG = logging.getLogger(__name__)

#: A vGPU unit's fields (its VF is its pci_address), shown after the
#: address; a whole device has none (all null), and shows none.
VGPU_FIELDS = ('vgpu_profile', 'vgpu_type', 'vgpu_interface',
               'parent_address', 'mdev_uuid')
#: Shown first, in this order; any other field follows, sorted.
SHOW_FIELDS = ('uuid', 'name', 'host', 'pci_address', *VGPU_FIELDS, 'state',
               'health', 'health_reason', 'health_since', 'disabled',
               'disabled_reason', 'disabled_at', 'acc_specs', 'attachment',
               'revision')
LIST_COLUMNS = ('UUID', 'Name', 'Host', 'Type', 'State', 'Attached To',
                'Health')
LONG_COLUMNS = LIST_COLUMNS + ('PCI Address', 'Vendor ID', 'Product ID',
                               'Attachment State', 'Specs', 'Why',
                               'Since', 'vGPU Profile', 'Parent Address',
                               'mdev UUID')


def client_of(cmd: command.Command) -> api_client.AcceleratorClient:
    return cmd.app.client_manager.accelerator_placement


#: What a field the API left out shows: the caller may not see it (another
#: project's holder, a host or PCI address; see docs/api.md).
HIDDEN = '(hidden)'


def field(body: dict, name: str):
    """``body[name]``, or :data:`HIDDEN` when the API left it out."""
    return body.get(name) if name in body else HIDDEN


def _formatted(value):
    if isinstance(value, dict):
        return format_columns.DictColumn(value)
    if isinstance(value, list):
        return format_columns.ListColumn(value)
    return value


def show_columns(accelerator: dict) -> tuple[tuple, tuple]:
    """(names, values) of every field the API returned, known ones first
    (those it left out as :data:`HIDDEN`)."""
    names = [n for n in SHOW_FIELDS
             if n not in VGPU_FIELDS or accelerator.get('vgpu_interface')]
    names += sorted(set(accelerator) - set(SHOW_FIELDS))
    return tuple(names), tuple(_formatted(field(accelerator, n))
                               for n in names)


def attached_to(accelerator: dict) -> str | None:
    """``instance <uuid>`` or ``host <name>`` while an attachment holds it.

    The API shows the last attachment even when it ended (so a user sees why
    an attach failed); its ``holds_accelerator`` says whether it still
    holds the unit.
    """
    attachment = accelerator.get('attachment') or {}
    if not attachment.get('holds_accelerator'):
        return None
    if attachment.get('instance_uuid'):
        return f"instance {attachment['instance_uuid']}"
    if attachment.get('host'):
        return f"host {attachment['host']}"
    if 'instance_uuid' not in attachment:
        return HIDDEN
    return None


#: How an instance got a unit, by the attachment's ``claim``: Nova's
#: allocation (the flavor's resources, bound by the API), or an
#: ``accelerator attach`` that claimed it.
_VIA = {'existing_allocation': 'flavor', 'api': 'acc-attach'}


def via(accelerator: dict) -> str | None:
    """``flavor`` or ``acc-attach`` while an attachment holds the unit."""
    attachment = accelerator.get('attachment') or {}
    if not attachment.get('holds_accelerator'):
        return None
    if 'claim' not in attachment:
        return HIDDEN
    return _VIA.get(attachment['claim'], attachment['claim'])


def health(accelerator: dict) -> str | None:
    """``healthy``, ``unhealthy``, and ``disabled`` when an operator took
    it out of service: whether it may be given to anyone new."""
    shown = [accelerator['health']] if accelerator.get('health') else []
    if accelerator.get('disabled'):
        shown.append('disabled')
    return ', '.join(shown) or None


def why(accelerator: dict) -> tuple[str | None, str | None]:
    """(reason, since) of being unhealthy, else of being disabled."""
    if accelerator.get('health') == 'unhealthy':
        return accelerator.get('health_reason'), accelerator.get(
            'health_since')
    if accelerator.get('disabled'):
        return (accelerator.get('disabled_reason'),
                accelerator.get('disabled_at'))
    return None, None


def list_row(accelerator: dict, long: bool) -> tuple:
    acc_specs = accelerator.get('acc_specs') or {}
    row = (accelerator.get('uuid'), field(accelerator, 'name'),
           field(accelerator, 'host'), acc_specs.get('device_type'),
           accelerator.get('state'), attached_to(accelerator),
           health(accelerator))
    if not long:
        return row
    attachment = accelerator.get('attachment') or {}
    return row + (field(accelerator, 'pci_address'),
                  acc_specs.get('vendor_id'),
                  acc_specs.get('product_id'), attachment.get('state'),
                  format_columns.DictColumn(acc_specs)) + why(accelerator) + (
        vgpu(accelerator))


def vgpu(accelerator: dict) -> tuple:
    """A vGPU unit's profile, parent GPU and mdev UUID; Nones for a whole
    device (address and UUID :data:`HIDDEN` when the API left them out)."""
    if not accelerator.get('vgpu_interface'):
        return None, None, None
    return (accelerator.get('vgpu_profile'),
            field(accelerator, 'parent_address'),
            field(accelerator, 'mdev_uuid'))


#: With ``--instance``: how it got each unit, and where each unit is, to
#: compare with the NUMA nodes of the guest's CPUs (docs/operator-guide.md).
INSTANCE_COLUMNS = ('Via', 'NUMA Node', 'Socket')


def instance_cells(accelerator: dict) -> tuple:
    return (via(accelerator), accelerator.get('numa_node'),
            accelerator.get('socket'))


def add_accelerator_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('accelerator', metavar='<uuid>',
                        help='UUID of the accelerator')


def _add_spec_arg(parser, help_text: str) -> None:
    parser.add_argument(
        '--spec', metavar='<key=value>', action='append', dest='specs',
        help=help_text + ' remote, num and acc_capability take JSON '
             '(num=2, acc_capability={"fp16": true}); other values are '
             'strings. Repeat the option to give several keys.')


class ListAccelerator(command.Lister):
    """List accelerators, optionally of one host, type, state, health or
    instance."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--host', metavar='<host>',
                            help='Only accelerators of this host')
        parser.add_argument('--type', metavar='<device-type>',
                            dest='device_type',
                            help='Only this device type (GPU, FPGA, CRYPTO, '
                                 'AI, NIC)')
        parser.add_argument('--state', metavar='<state>',
                            help='Only accelerators in this state '
                                 '(available, missing)')
        parser.add_argument('--health', metavar='<health>',
                            choices=('healthy', 'unhealthy'),
                            help='Only healthy or unhealthy accelerators '
                                 '(with --long: why and since when)')
        parser.add_argument('--instance', metavar='<uuid>',
                            help="Only the instance's accelerators, with "
                                 'how it got each (Via: "flavor" for the '
                                 "units its flavor's allocation holds, "
                                 '"acc-attach" for those attached to it) '
                                 'and the NUMA node and CPU socket of each')
        parser.add_argument('--long', action='store_true', default=False,
                            help='List more fields: PCI address, ids, the '
                                 'attachment state, the spec, and of a '
                                 'vGPU its profile, parent GPU and mdev '
                                 'UUID')
        return parser

    def take_action(self, parsed_args):
        accelerators = client_of(self).list(
            host=parsed_args.host, device_type=parsed_args.device_type,
            state=parsed_args.state, instance_uuid=parsed_args.instance,
            health=parsed_args.health)
        columns = LONG_COLUMNS if parsed_args.long else LIST_COLUMNS
        if parsed_args.instance is None:
            return columns, [list_row(a, parsed_args.long)
                             for a in accelerators]
        return columns + INSTANCE_COLUMNS, [
            list_row(a, parsed_args.long) + instance_cells(a)
            for a in accelerators]


class ShowAccelerator(command.ShowOne):
    """Show one accelerator, its spec and its attachment."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_accelerator_arg(parser)
        return parser

    def take_action(self, parsed_args):
        accelerator, _etag = client_of(self).get(parsed_args.accelerator)
        return show_columns(accelerator)


class CreateAccelerator(command.ShowOne):
    """Create an accelerator record (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='<name>',
                            help='Name of the new accelerator (unique)')
        parser.add_argument('--uuid', metavar='<uuid>',
                            help='UUID to give it (default: a new one)')
        _add_spec_arg(parser, 'A key of its acc_specs.')
        return parser

    def take_action(self, parsed_args):
        acc_specs = specs.parse_pairs(parsed_args.specs)
        accelerator = client_of(self).create(
            parsed_args.name, uuid=parsed_args.uuid,
            acc_specs=acc_specs or None)
        return show_columns(accelerator)


def etag_of(revision: str) -> str:
    """The ``If-Match`` value for a revision as ``show`` prints it."""
    revision = revision.strip()
    return revision if revision.startswith('"') else f'"{revision}"'


class SetAccelerator(command.ShowOne):
    """Change an accelerator's spec, or disable or enable it (admin).

    The spec is read with its revision and written back with ``If-Match``:
    if someone else changed it in between (or since the ``--revision`` you
    give), the API refuses and nothing is written. A disabled accelerator
    is given to nobody new (and reserved in Placement) until enabled; its
    holder keeps it.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_accelerator_arg(parser)
        _add_spec_arg(parser, 'Set this key of the spec, keeping the others.')
        parser.add_argument(
            '--spec-file', metavar='<file>',
            help='Replace the whole spec with the object in this JSON or '
                 'YAML file (--spec options then change keys of it)')
        parser.add_argument(
            '--revision', metavar='<revision>',
            help='Change it only if it is still at this revision (as '
                 '"show" printed it); default: the revision read just now')
        state = parser.add_mutually_exclusive_group()
        state.add_argument(
            '--disable', action='store_true', default=False,
            help='Take it out of service: given to no new instance or host '
                 'and reserved in Placement; its holder keeps it')
        state.add_argument('--enable', action='store_true', default=False,
                           help='Put a disabled accelerator back in service')
        parser.add_argument('--reason', metavar='<reason>',
                            help='Why it is disabled (with --disable)')
        return parser

    def take_action(self, parsed_args):
        if parsed_args.reason is not None and not parsed_args.disable:
            raise specs.SpecError('--reason goes with --disable.')
        spec_change = parsed_args.specs or parsed_args.spec_file
        if not spec_change and not (parsed_args.disable
                                    or parsed_args.enable):
            raise specs.SpecError('Nothing to set: give --spec KEY=VALUE, '
                                  '--spec-file FILE, --disable or --enable.')
        accelerator = None
        if spec_change:
            accelerator = self._set_specs(parsed_args)
        if parsed_args.disable or parsed_args.enable:
            accelerator = client_of(self).set_disabled(
                parsed_args.accelerator, parsed_args.disable,
                parsed_args.reason)
        return show_columns(accelerator)

    def _set_specs(self, parsed_args) -> dict:
        changes = specs.parse_pairs(parsed_args.specs)
        base = (specs.load_file(parsed_args.spec_file)
                if parsed_args.spec_file else None)
        client = client_of(self)
        current, etag = client.get(parsed_args.accelerator)
        if base is None:
            base = current.get('acc_specs') or {}
        if parsed_args.revision is not None:
            etag = etag_of(parsed_args.revision)
        return client.set_specs(parsed_args.accelerator,
                                {**base, **changes}, etag)
