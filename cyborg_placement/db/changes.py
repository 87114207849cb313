"""What the data layer tells its observers once a change is committed.

The API's notifications and the wake-ups of host agents follow these: one
place sees every change of a unit or an attachment, whichever flow made it
(attach, detach, Nova's bindings, Cyborg's ARQs, repair, device reports).
The data layer knows nothing of what the observers do with them.
"""
import dataclasses

from cyborg_placement.db import models

#: Unit events, by what a device report or an operator changed.
CREATE = 'create'
DELETE = 'delete'
HEALTH = 'health.update'
DISABLE = 'disable'
ENABLE = 'enable'
#: An attachment was written (``before`` says from what).
ATTACHMENT = 'attachment'
#: A detach request was refused (told by the attach flow: nothing changed).
DETACH_ERROR = 'detach.error'


@dataclasses.dataclass(frozen=True)
class Change:
    event: str
    unit: models.Accelerator
    attachment: models.Attachment | None = None
    #: The attachment's (state, claimed) before; None for a new record.
    before: tuple[str, bool] | None = None
    #: Why a request about it failed (``detach.error``).
    fault: str | None = None


def of_attachment(record: models.Attachment,
                  before: tuple[str, bool] | None) -> Change:
    return Change(ATTACHMENT, record.accelerator, record, before)
