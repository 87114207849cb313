"""Cyborg's device enable and disable, on our units.

The same switch as ``PUT /accelerators/{uuid}/disabled``: a disabled unit
goes to no new holder and its agent reserves it in Placement while free;
``/v2/devices`` shows it as ``status``. Cyborg's calls carry no reason.
"""
from cyborg_placement.attach import flow
from cyborg_placement.db import accelerators
from cyborg_placement.db import models

ENABLED = 'enabled'
#: Cyborg's word for a disabled device (its API reference and code agree).
DISABLED = 'maintaining'


def set_enabled(services: flow.Services, uuid: str, enabled: bool
                ) -> models.Accelerator:
    """Disabling a unit already disabled keeps the reason it was given."""
    if not enabled:
        unit = accelerators.get_record(services.db, uuid)
        if unit.disabled:
            return unit
    return accelerators.set_disabled(services.db, uuid, not enabled)


def status(unit: models.Accelerator) -> str:
    return DISABLED if unit.disabled else ENABLED
