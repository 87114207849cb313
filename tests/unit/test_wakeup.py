"""Which committed changes wake which agent, and which event each is: the
API's side of wake-ups and notifications, as pure functions of a change;
and the broker's outage said once in the log."""
import logging

import pytest

from cyborg_placement import rpc
from cyborg_placement import wakeup
from cyborg_placement.db import changes
from cyborg_placement.db import models
from cyborg_placement.notifications import emit

UNIT = models.Accelerator(uuid='u', host='compute-1')


def _change(state, before, api_claim=True, claimed=True):
    record = models.Attachment(uuid='a', state=state, api_claim=api_claim,
                               claimed=claimed, agent_host='compute-1')
    return changes.Change(changes.ATTACHMENT, UNIT, record, before)


@pytest.mark.parametrize('change, event, woken', [
    # An attach: recorded, claimed (now the reconciler is fed it), done.
    (_change('attaching', None, claimed=False), 'attach.start', False),
    (_change('attaching', ('attaching', False)), None, True),
    (_change('attached', ('attaching', True)), 'attach.end', False),
    (_change('attach_failed', ('attaching', True)), 'attach.error', False),
    # Rolled back before its claim: the reconciler never had it.
    (_change('attach_failed', ('attaching', False), claimed=False),
     'attach.error', False),
    (_change('detaching', ('attached', True)), 'detach.start', True),
    (_change('detached', ('detaching', True)), 'detach.end', False),
    # Nova's bindings change which units are held.
    (_change('attached', None, api_claim=False, claimed=False), 'bind',
     True),
    (_change('detached', ('attached', False), api_claim=False,
             claimed=False), 'release', True),
    (changes.Change(changes.DISABLE, UNIT), 'disable', True),
    (changes.Change(changes.ENABLE, UNIT), 'enable', True),
    # What the agent itself reported needs no wake-up.
    (changes.Change(changes.HEALTH, UNIT), 'health.update', False),
    (changes.Change(changes.CREATE, UNIT), 'create', False),
    (changes.Change(changes.DELETE, UNIT), 'delete', False),
    (changes.Change(changes.DETACH_ERROR, UNIT, fault='no'), 'detach.error',
     False),
])
def test_each_change_is_its_event_and_wakes_its_host_when_it_has_work(
        change, event, woken):
    assert emit.event_of(change) == event
    assert wakeup.host_to_wake(change) == ('compute-1' if woken else None)


def _record(message: str, level=logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord('oslo.messaging._drivers.impl_rabbit', level,
                             __file__, 1, message, (), None)


def test_an_outage_is_said_once_and_its_end_once():
    once = rpc._OncePerOutage()
    said = [once.filter(_record(m)) for m in (
        'AMQP server on h:5672 is unreachable: refused. Trying again',
        'AMQP server on h:5672 is unreachable: refused. Trying again',
        'Connection failed: refused (retrying in 2.0 seconds)',
        'Reconnected to AMQP server on h:5672',
        'Reconnected to AMQP server on h:5672',
        'AMQP server on h:5672 is unreachable: refused. Trying again')]
    assert said == [True, False, False, True, False, True]
