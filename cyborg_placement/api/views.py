"""JSON representations of accelerators and attachments."""
from cyborg_placement.db import accelerators
from cyborg_placement.db import models


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


def etag(record: models.Accelerator) -> str:
    return f'"{record.revision}"'
