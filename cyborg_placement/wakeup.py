"""The API's side of wake-ups: a cast to a host's agent when something its
reconciler acts on changes there.

Fire and forget: the records are written before, so a lost cast costs
only the wait for the agent's next poll (its safety net,
``[agent] woken_reconcile_interval``), never a record.
"""
from oslo_config import cfg
import oslo_messaging as messaging

from cyborg_placement import outbox
from cyborg_placement import rpc
from cyborg_placement.db import changes
from cyborg_placement.db import models


def host_to_wake(change: changes.Change) -> str | None:
    """The host whose agent must act on ``change`` now, if any.

    Its reconciler is fed an API claim once the claim is confirmed, and
    acts on a detach request; its publication reserves disabled units and
    leaves held ones (bindings) out. What the agent itself reported (a
    device report, an attachment's result) needs no wake-up.
    """
    if change.event in (changes.DISABLE, changes.ENABLE):
        return change.unit.host
    if change.event != changes.ATTACHMENT:
        return None
    record, before = change.attachment, change.before
    if not record.api_claim:
        woken = before is None or record.state == models.DETACHED
    elif before is None:
        woken = False  # not fed to the reconciler before its claim
    else:
        woken = ((record.claimed and not before[1]
                  and record.state == models.ATTACHING)
                 or (record.state == models.DETACHING
                     and before[0] != models.DETACHING))
    return (record.agent_host or None) if woken else None


class Wakeups:
    """The observer of the data layer that casts ``wake_up`` to agents."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.client = messaging.get_rpc_client(rpc.rpc_transport(conf),
                                               rpc.agent_target())
        self.outbox = outbox.Outbox('wake-ups', self._cast)

    def __call__(self, change: changes.Change) -> None:
        host = host_to_wake(change)
        if host is not None:
            self.outbox.put(host)

    def _cast(self, host: str) -> None:
        # retry=0: a broker away fails at once, the agent's poll catches up.
        self.client.prepare(server=host, retry=0).cast({}, 'wake_up')
