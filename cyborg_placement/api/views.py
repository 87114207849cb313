"""JSON representations of accelerators and attachments.

Handlers answer with :func:`visible` and :func:`visible_attachment`: the
full representation less what the caller may not see.
"""
from cyborg_placement.api import visibility
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
        # The unit the host's reconciler attaches, without a second call.
        'pci_address': record.accelerator.pci_address,
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
    record = view.accelerator
    return {
        'uuid': record.uuid,
        'name': record.name,
        'host': record.host,
        'pci_address': record.pci_address,
        'state': record.state,
        'pool_provider_uuid': record.pool_provider_uuid,
        'resource_class': record.resource_class,
        'numa_node': record.numa_node,
        'driver': record.driver,
        'health': record.health,
        'health_reason': record.health_reason,
        'health_since': _time(record.health_since),
        'disabled': record.disabled,
        'disabled_reason': record.disabled_reason,
        'disabled_at': _time(record.disabled_at),
        'acc_specs': accelerators.specs_of(record),
        'attachment': attachment(view.attachment),
        'revision': record.revision,
        'created_at': _time(record.created_at),
        'updated_at': _time(record.updated_at),
    }


def _attachment_seen(sight: visibility.Sight, body: dict) -> dict:
    if not sight.holder:
        body = {k: body[k] for k in _ANYONE_SEES}
    for field, shown in (('pci_address', sight.pci_address),
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
        # The agent's reasons name functions ("PF 0000:3b:00.0: ...").
        del body['pci_address'], body['health_reason']
    if not (sight.host and sight.pci_address) and record.host and \
            record.name == accelerators.reported_name(record.host,
                                                      record.pci_address):
        del body['name']
    return body


def visible_attachment(viewer: visibility.Viewer,
                       record: models.Attachment) -> dict:
    """The attachment as ``viewer`` may see it."""
    return _attachment_seen(viewer.of(record), attachment(record))


def etag(record: models.Accelerator) -> str:
    return f'"{record.revision}"'
