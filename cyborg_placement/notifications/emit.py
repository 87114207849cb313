"""Turn committed changes into ``accelerator.*`` notifications.

Off unless ``[oslo_messaging_notifications] driver`` is set, as in every
OpenStack service. The payloads name projects, instances and hosts: send
them to a topic only operators' consumers read, as Nova's are
(docs/notifications.md).
"""
import socket

from oslo_config import cfg
import oslo_messaging as messaging

from cyborg_placement import outbox
from cyborg_placement import rpc
from cyborg_placement.db import changes
from cyborg_placement.db import models
from cyborg_placement.notifications import objects

#: How long a request waits for its notification to leave (in order per
#: unit across API workers); never while the bus is failing.
SEND_WAIT = 2.0

#: Error events go out with the ERROR priority, as Nova's ``*.error``.
_ERRORS = ('attach.error', 'detach.error')


def attachment_event(change: changes.Change) -> str | None:
    """The event an attachment's change is, if any (``attach.start``...)."""
    record, before = change.attachment, change.before
    if before is None:
        return 'attach.start' if record.api_claim else 'bind'
    if record.state == before[0]:
        return None  # its claim confirmed, its release done: no new state
    if not record.api_claim:
        return 'release' if record.state == models.DETACHED else None
    return {models.ATTACHED: 'attach.end',
            models.ATTACH_FAILED: 'attach.error',
            models.DETACHING: 'detach.start',
            models.DETACHED: 'detach.end'}.get(record.state)


def event_of(change: changes.Change) -> str | None:
    if change.event == changes.ATTACHMENT:
        return attachment_event(change)
    return change.event


class Notifications:
    """The observer of the data layer that emits our notifications."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        rpc.set_defaults()
        rpc.log_outages_once()
        self.notifier = messaging.Notifier(
            messaging.get_notification_transport(conf),
            publisher_id=f'cyborg-api:{socket.gethostname()}')
        self.outbox = outbox.Outbox('notifications', self._send)

    @property
    def enabled(self) -> bool:
        return self.notifier.is_enabled()

    def __call__(self, change: changes.Change) -> None:
        event = event_of(change)
        if event is None:
            return
        fault = change.fault
        if event == 'attach.error':
            fault = change.attachment.reason
        payload = objects.AcceleratorActionPayload.of(
            change.unit, change.attachment, fault)
        self.outbox.put((f'accelerator.{event}', payload.obj_to_primitive()),
                        wait=SEND_WAIT)

    def _send(self, item: tuple[str, dict]) -> None:
        event_type, payload = item
        notify = (self.notifier.error if event_type.endswith(_ERRORS)
                  else self.notifier.info)
        notify({}, event_type, payload)
