"""Cyborg's device enable and disable, on our units.

Minimal: it records the operator's choice on the unit
(``accelerators.disabled``) and ``/v2/devices`` shows it as ``status``.
Issue 16's per-unit operator disable (``PUT /accelerators/{uuid}/disabled``)
is the full feature, which also keeps a disabled unit from new holders and
has its agent reserve it in Placement; these two functions are the one
place to point at it.
"""
from cyborg_placement.attach import flow
from cyborg_placement.db import accelerators
from cyborg_placement.db import models

ENABLED = 'enabled'
DISABLED = 'disabled'


def set_enabled(services: flow.Services, uuid: str, enabled: bool
                ) -> models.Accelerator:
    return accelerators.set_disabled(services.db, uuid, not enabled)


def status(unit: models.Accelerator) -> str:
    return DISABLED if unit.disabled else ENABLED
