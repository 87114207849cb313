"""JSON representations of accelerators, attachments, device profiles,
accelerator requests, and of our units as Cyborg's devices and
deployables.

Handlers answer accelerators and attachments with :func:`visible` and
:func:`visible_attachment`: the full representation less what the caller
may not see.
"""
import json

from cyborg_placement.api import visibility
from cyborg_placement.attach import attributes
from cyborg_placement.attach import devices
from cyborg_placement.db import accelerators
from cyborg_placement.db import models

#: What anyone sees of an attachment whose holder it may not see: that the
#: unit is held (or was), nothing that says by whom.
_ANYONE_SEES = ('accelerator_uuid', 'state', 'holds_accelerator')


def _time(value) -> str | None:
    return value.isoformat() + 'Z' if value else None


def attachment(record: models.Attachment | None) -> dict | None:
    if record is None:
        return None
    return {
        'uuid': record.uuid,
        'accelerator_uuid': record.accelerator.uuid,
        # The unit the host's reconciler attaches, without a second call:
        # its PCI function, and which vGPU of it (None: the whole device).
        'pci_address': record.accelerator.pci_address,
        'vgpu_interface': record.accelerator.vgpu_interface,
        'vgpu_type': record.accelerator.vgpu_type,
        'mdev_uuid': record.accelerator.mdev_uuid,
        'instance_uuid': record.instance_uuid,
        'host': record.host,
        # The host driver the request named (host attachments), or None.
        'driver': record.driver,
        'project_id': record.project_id,
        'user_id': record.user_id,
        'state': record.state,
        # Clients ask this, not a list of states, whether the unit is taken.
        'holds_accelerator': record.holds_accelerator,
        'reason': record.reason,
        'consumer_uuid': record.consumer_uuid,
        'claim': 'api' if record.api_claim else 'existing_allocation',
        'revision': record.host_revision,
        'created_at': _time(record.created_at),
        'updated_at': _time(record.updated_at),
    }


def accelerator(view: accelerators.AcceleratorView) -> dict:
    # Called once per row of a list (1,000 a page): the fields are spelled
    # out and the times formatted in line, which keeps a page's views
    # cheaper than Placement's of as many providers (docs/benchmarks-api.md).
    record = view.accelerator
    health_since, disabled_at = record.health_since, record.disabled_at
    return {
        'uuid': record.uuid,
        'name': record.name,
        'host': record.host,
        'pci_address': record.pci_address,
        'state': record.state,
        'pool_provider_uuid': record.pool_provider_uuid,
        'resource_class': record.resource_class,
        'numa_node': record.numa_node,
        'socket': record.socket,
        'driver': record.driver,
        # A vGPU unit's (None for a whole device): its VF is pci_address.
        'vgpu_interface': record.vgpu_interface,
        'vgpu_type': record.vgpu_type,
        'vgpu_profile': record.vgpu_profile,
        'parent_address': record.parent_address,
        'mdev_uuid': record.mdev_uuid,
        'health': record.health,
        'health_reason': record.health_reason,
        'health_since': health_since and health_since.isoformat() + 'Z',
        'disabled': record.disabled,
        'disabled_reason': record.disabled_reason,
        'disabled_at': disabled_at and disabled_at.isoformat() + 'Z',
        'acc_specs': accelerators.specs_of(record),
        'attachment': attachment(view.attachment),
        'revision': record.revision,
        'created_at': record.created_at.isoformat() + 'Z',
        'updated_at': _time(record.updated_at),
    }


def _attachment_seen(sight: visibility.Sight, body: dict) -> dict:
    if not sight.holder:
        body = {k: body[k] for k in _ANYONE_SEES}
    for field, shown in (('pci_address', sight.pci_address),
                         ('mdev_uuid', sight.pci_address),
                         ('host', sight.host)):
        if not shown:
            body.pop(field, None)
    return body


def visible(viewer: visibility.Viewer,
            view: accelerators.AcceleratorView) -> dict:
    """The accelerator as ``viewer`` may see it. Hidden fields are left
    out, as Nova leaves out a server's host, never set to null: a client
    tells hidden from empty. A reported unit's name (``<host>:<PCI
    address>``) goes with either."""
    sight = viewer.of(view.attachment)
    body = accelerator(view)
    record = view.accelerator
    if body['attachment'] is not None:
        body['attachment'] = _attachment_seen(sight, body['attachment'])
    if not sight.host:
        del body['host'], body['pool_provider_uuid']
    if not sight.pci_address:
        # The agent's reasons name functions ("PF 0000:3b:00.0: ..."); an
        # mdev's UUID names it on its host as the address does.
        del body['pci_address'], body['health_reason']
        del body['parent_address'], body['mdev_uuid']
    if not (sight.host and sight.pci_address) and \
            accelerators.has_reported_name(record):
        del body['name']
    return body


def visible_attachment(viewer: visibility.Viewer,
                       record: models.Attachment) -> dict:
    """The attachment as ``viewer`` may see it."""
    return _attachment_seen(viewer.of(record), attachment(record))


def etag(record: models.Accelerator) -> str:
    return f'"{record.revision}"'


def device_profile(record: models.DeviceProfile) -> dict:
    return {
        'uuid': record.uuid,
        'name': record.name,
        'groups': record.groups,
        'description': record.description,
        'created_at': _time(record.created_at),
        'updated_at': _time(record.updated_at),
    }


def attach_handle_info(pci_address: str) -> dict:
    """A PCI address as Nova's libvirt driver reads an ARQ's attach handle:
    hex strings without ``0x``, which it puts into the hostdev's address."""
    domain, bus, rest = pci_address.split(':')
    device, function = rest.split('.')
    return {'domain': domain, 'bus': bus, 'device': device,
            'function': function}


def attach_handle(unit: models.Accelerator | None) -> dict:
    """How Nova's libvirt driver puts a bound ARQ's unit into the guest.

    A PCI function: a PCI hostdev. An mdev vGPU unit: ``MDEV``, whose UUID
    Nova creates the mdev with (``_allocate_cyborg_mdevs``, on spawn and
    on hard reboot when it is missing), on the parent whose address the
    info gives (the VF), of type ``asked_type``. Vendor-VFIO vGPU units
    are never bound to ARQs (:mod:`attach.requests` refuses them).
    """
    if unit is None:
        return {'attach_handle_type': '', 'attach_handle_info': {},
                'attach_handle_uuid': None}
    if unit.vgpu_interface == models.VGPU_MDEV:
        return {'attach_handle_type': 'MDEV',
                'attach_handle_info': {**attach_handle_info(unit.pci_address),
                                       'asked_type': unit.vgpu_type},
                'attach_handle_uuid': unit.mdev_uuid}
    return {'attach_handle_type': 'PCI',
            'attach_handle_info': attach_handle_info(unit.pci_address),
            'attach_handle_uuid': None}


def accelerator_request(record: models.AcceleratorRequest) -> dict:
    """An ARQ as Nova reads it. A ``Bound`` ARQ whose binding was released
    meanwhile (its unit went to nobody's allocation) shows ``Unbound``
    without a handle: its unit is no longer the instance's."""
    binding = record.attachment
    holds = binding is not None and binding.holds_accelerator
    state = record.state
    if state == models.ARQ_BOUND and not holds:
        state = models.ARQ_UNBOUND
    unit = binding.accelerator if holds else None
    return {
        'uuid': record.uuid,
        'state': state,
        'device_profile_name': record.device_profile.name,
        'device_profile_group_id': record.device_profile_group_id,
        'hostname': record.hostname,
        'device_rp_uuid': record.device_rp_uuid,
        'instance_uuid': record.instance_uuid,
        'project_id': record.project_id,
        **attach_handle(unit),
        # Ours: the unit, as GET /accelerators/{uuid} shows it.
        'accelerator_uuid': unit.uuid if unit is not None else None,
        'created_at': _time(record.created_at),
        'updated_at': _time(record.updated_at),
    }


def device(unit: models.Accelerator, with_status: bool,
           sight: visibility.Sight) -> dict:
    """A unit as a Cyborg device (one assignable PCI function each):
    ``std_board_info`` and ``vendor_board_info`` are JSON strings, as
    Cyborg's; ``id`` is the uuid, the path openstacksdk enables it at;
    ``status`` from microversion 2.3. Host and PCI address as ``sight``
    allows (that of a free unit: these lists do not name holders). A vGPU
    unit's board info adds its profile and type, and its GPU's address
    with its own (Cyborg's device has no field for either)."""
    board = {'product_id': unit.product_id,
             'resource_class': unit.resource_class}
    if unit.vgpu_type is not None:
        board.update(vgpu_profile=unit.vgpu_profile,
                     vgpu_type=unit.vgpu_type)
    if sight.pci_address:
        board['pci_address'] = unit.pci_address
        if unit.parent_address is not None:
            board['parent_address'] = unit.parent_address
    shown = {
        'uuid': unit.uuid,
        'id': unit.uuid,
        'type': unit.device_type,
        'vendor': unit.vendor_id,
        'model': unit.product_id,
        'hostname': unit.host,
        'std_board_info': json.dumps(board),
        'vendor_board_info': json.dumps(unit.acc_capability or {}),
        'created_at': _time(unit.created_at),
        'updated_at': _time(unit.updated_at),
    }
    if not sight.host:
        del shown['hostname']
    if with_status:
        shown['status'] = devices.status(unit)
    return shown


def deployable(unit: models.Accelerator, sight: visibility.Sight,
               attributes_list: list[attributes.Attribute]) -> dict:
    """A unit as a Cyborg deployable: one accelerator, in the pool
    ``rp_uuid``, on the device of the same uuid; the pool and the reported
    name (host and PCI address) as ``sight`` allows. ``attributes_list`` is
    a JSON string of ``[{key: value}, ...]``, as Cyborg's."""
    shown = {
        'uuid': unit.uuid,
        'name': unit.name,
        'parent_id': None,
        'root_id': None,
        'num_accelerators': 1,
        'device_id': unit.uuid,
        'rp_uuid': unit.pool_provider_uuid,
        'driver_name': unit.driver,
        # Cyborg's FPGA image programmed into it: never, here.
        'bitstream_id': None,
        'attributes_list': json.dumps([{a.key: a.value}
                                       for a in attributes_list]),
        'created_at': _time(unit.created_at),
        'updated_at': _time(unit.updated_at),
    }
    if not sight.host:
        del shown['rp_uuid']
    if not (sight.host and sight.pci_address) and \
            accelerators.has_reported_name(unit):
        del shown['name']
    return shown


def attribute(shown: attributes.Attribute) -> dict:
    """Cyborg's attribute: ``deployable_id`` is the unit's integer id, as
    Cyborg's is its deployable's; ours adds the unit's uuid and whether the
    device report decides it (``rc`` and traits) or an admin gave it."""
    return {
        'uuid': shown.uuid,
        'deployable_id': shown.unit.id,
        'deployable_uuid': shown.unit.uuid,
        'key': shown.key,
        'value': shown.value,
        'derived': shown.derived,
        'created_at': _time(shown.created_at),
        'updated_at': _time(shown.updated_at),
    }
