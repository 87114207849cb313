"""Each interleaving of attach, detach, state reports and recovery that the
storm test found, played in a chosen order: the attach flow called in
process on SQLite, against the real Placement. A step of another request
runs at the moment one of ours writes to Placement; a worker killed there is
an exception that stops the flow (as SIGKILL would, nothing after it runs).

Afterwards Placement holds exactly what the records want: one unit per
active API claim (plus the instance's own units), nothing for the rest."""
import types
import uuid

import pytest

from cyborg_placement.attach import bindings
from cyborg_placement.attach import claims
from cyborg_placement.attach import exceptions
from cyborg_placement.attach import flow
from cyborg_placement.db import attachments
from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import migration
from cyborg_placement.db import models
from cyborg_placement.db import reports
from tests.conftest import make_conf
from tools.harness import ini
from tools.harness.api_server import make_host

CONTEXT = types.SimpleNamespace(project_id='p1', user_id='u1')


class Killed(BaseException):
    """The worker died here: no handler of the flow runs."""


def _die():
    raise Killed


class Interposed:
    """The real Placement client; ``hooks`` run around its next PUTs."""

    def __init__(self, placement) -> None:
        self.placement = placement
        self.before: list = []
        self.after: list = []

    def __getattr__(self, name):
        return getattr(self.placement, name)

    def put(self, url, body=None, **kwargs):
        if self.before:
            self.before.pop(0)()
        done = self.placement.put(url, body, **kwargs)
        if self.after:
            self.after.pop(0)()
        return done


def _services(tmp_path, placement_server, placement, recovery_seconds):
    conf = make_conf(tmp_path, {
        'placement': ini.token_auth(placement_server.url),
        'api': {'attach_recovery_seconds': recovery_seconds}})
    db = db_engine.Database(f'sqlite:///{tmp_path}/cyborg.sqlite')
    migration.upgrade(db)
    return flow.Services(db, Interposed(placement), conf)


@pytest.fixture
def services(tmp_path, placement_server, placement):
    """Recovery takes any interrupted attach at once."""
    made = _services(tmp_path, placement_server, placement, 0)
    yield made
    made.db.dispose()


@pytest.fixture
def patient(tmp_path, placement_server, placement):
    """Recovery waits an hour: every attach is still under way."""
    made = _services(tmp_path, placement_server, placement, 3600)
    yield made
    made.db.dispose()


def _host(services, placement, name, units=3):
    made = make_host(placement, name, units=units)
    views = reports.apply_report(services.db, name,
                                 made['report']['accelerators'])
    made['accelerators'] = [v.accelerator for v in views]
    made['name'] = name
    return made


def _used(placement, pool) -> int:
    usages = placement.get(f'/resource_providers/{pool}/usages')['usages']
    return sum(usages.values())


def _units(placement, consumer, pool) -> int:
    return claims.read(placement, consumer).units(pool, 'PGPU')


def _host_attach(services, host, accelerator):
    target = flow.host_target(services, accelerator, host['name'], CONTEXT)
    return flow.attach(services, accelerator, target)


def _attached(services, host, accelerator):
    record = _host_attach(services, host, accelerator)
    return flow.report_state(services, record, models.ATTACHED, None)


def _record(services, record):
    return attachments.get(services.db, record.uuid)


def _active(services, accelerator):
    return attachments.active_for(services.db, accelerator.id)


def test_rollback_during_the_claim_answers_409_and_leaves_nothing(
        services, placement, unique_name):
    """The issue's case: a recovery rolls the record back while the attach
    claims; the attach takes its claim back and answers 409 (was a 500)."""
    host = _host(services, placement, unique_name)
    accelerator = host['accelerators'][0]
    services.placement.before.append(
        lambda: flow.recover(services, _active(services, accelerator)))
    with pytest.raises(exceptions.Contended, match='rolled back'):
        _host_attach(services, host, accelerator)
    [record] = _history(services, accelerator)
    assert (record.state, record.released) == (models.ATTACH_FAILED, True)
    assert _used(placement, host['pool']) == 0
    assert _active(services, accelerator) is None
    _host_attach(services, host, accelerator)  # free again
    assert _used(placement, host['pool']) == 1


def _history(services, accelerator):
    with services.db.reader() as session:
        return list(session.execute(
            models.Attachment.__table__.select()
            .where(models.Attachment.accelerator_id == accelerator.id)))


def test_late_claim_of_a_killed_attach_is_swept(services, placement,
                                                unique_name):
    """Rolled back, then its claim lands and the worker dies: a unit no
    record owns. The host's next feed read releases it."""
    host = _host(services, placement, unique_name)
    accelerator = host['accelerators'][0]
    services.placement.before.append(
        lambda: flow.recover(services, _active(services, accelerator)))
    services.placement.after.append(_die)
    with pytest.raises(Killed):
        _host_attach(services, host, accelerator)
    assert _used(placement, host['pool']) == 1  # no record explains it

    bindings.repair_host(services, host['name'])
    assert _used(placement, host['pool']) == 0
    assert [r.released for r in _history(services, accelerator)] == [True]
    bindings.repair_host(services, host['name'])  # again: nothing to do
    assert _used(placement, host['pool']) == 0


def test_attach_killed_between_record_and_claim(services, placement,
                                                unique_name):
    host = _host(services, placement, unique_name)
    accelerator = host['accelerators'][0]
    services.placement.before.append(_die)
    with pytest.raises(Killed):
        _host_attach(services, host, accelerator)
    bindings.repair_host(services, host['name'])
    assert _active(services, accelerator) is None
    assert _used(placement, host['pool']) == 0


def test_attach_killed_between_claim_and_confirmation(services, placement,
                                                      unique_name):
    host = _host(services, placement, unique_name)
    accelerator = host['accelerators'][0]
    services.placement.after.append(_die)
    with pytest.raises(Killed):
        _host_attach(services, host, accelerator)
    bindings.repair_host(services, host['name'])
    record = _active(services, accelerator)
    assert (record.state, record.claimed) == (models.ATTACHING, True)
    assert _used(placement, host['pool']) == 1
    bindings.repair_host(services, host['name'])
    assert _used(placement, host['pool']) == 1


@pytest.mark.parametrize('repair', ['repeated report', 'feed read'])
def test_release_killed_after_the_final_state(services, placement,
                                              unique_name, repair):
    """``detached`` is written, the worker dies before the release: the
    agent's repeated report, or the next feed read, releases the unit."""
    host = _host(services, placement, unique_name)
    accelerator = host['accelerators'][0]
    record = _attached(services, host, accelerator)
    flow.detach(services, record)
    detaching = _record(services, record)
    services.placement.before.append(_die)
    with pytest.raises(Killed):
        flow.report_state(services, detaching, models.DETACHED, None)
    done = _record(services, record)
    assert (done.state, done.released) == (models.DETACHED, False)
    assert _used(placement, host['pool']) == 1

    if repair == 'repeated report':
        flow.report_state(services, done, models.DETACHED, None)
    else:
        bindings.repair_host(services, host['name'])
    assert _used(placement, host['pool']) == 0
    assert _record(services, record).released
    flow.report_state(services, _record(services, record), models.DETACHED,
                      None)
    assert _used(placement, host['pool']) == 0


def test_detach_of_an_attach_under_way_is_409(patient, placement,
                                              unique_name):
    host = _host(patient, placement, unique_name)
    accelerator = host['accelerators'][0]
    refused = []

    def detach():
        with pytest.raises(exceptions.Contended, match='being attached'):
            flow.detach(patient, _active(patient, accelerator))
        refused.append(True)
    patient.placement.before.append(detach)
    record = _host_attach(patient, host, accelerator)
    assert refused and record.claimed
    assert _used(placement, host['pool']) == 1


def test_recovery_of_an_attach_under_way_waits(patient, placement,
                                               unique_name):
    host = _host(patient, placement, unique_name)
    accelerator = host['accelerators'][0]
    patient.placement.before.append(
        lambda: bindings.repair_host(patient, host['name']))
    record = _host_attach(patient, host, accelerator)
    assert record.state == models.ATTACHING and record.claimed
    assert _used(placement, host['pool']) == 1


def test_two_detaches_of_one_attachment(services, placement, unique_name):
    """The second, racing the first, is a no-op (204), not a 409."""
    host = _host(services, placement, unique_name)
    accelerator = host['accelerators'][0]
    record = _attached(services, host, accelerator)
    flow.detach(services, record)
    flow.detach(services, record)  # the stale view of the same record
    assert _record(services, record).state == models.DETACHING


def _instance(placement, host, own_units):
    """An instance Nova scheduled with ``own_units`` of the pool (none: a
    consumer Placement does not know yet)."""
    instance = str(uuid.uuid4())
    if not own_units:
        return instance
    placement.put(f'/allocations/{instance}', {
        'allocations': {host['pool']: {'resources': {'PGPU': own_units}}},
        'consumer_generation': None, 'project_id': 'p1', 'user_id': 'u1',
        'consumer_type': 'INSTANCE'}, microversion='1.38')
    return instance


def _instance_attach(services, accelerator, instance):
    target = flow.instance_target(services, accelerator, instance, CONTEXT)
    return flow.attach(services, accelerator, target)


def test_release_racing_a_claim_of_the_same_instance_and_pool(
        services, placement, unique_name):
    """A's release read the instance's units before B's claim: the release
    must not take B's unit, nor the instance's own (Nova's) unit."""
    host = _host(services, placement, unique_name, units=4)
    first, second = host['accelerators'][:2]
    instance = _instance(placement, host, own_units=1)
    a = _instance_attach(services, first, instance)
    a = flow.report_state(services, a, models.ATTACHED, None)
    assert _units(placement, instance, host['pool']) == 2
    flow.detach(services, a)
    services.placement.before.append(
        lambda: _instance_attach(services, second, instance))
    flow.report_state(services, _record(services, a), models.DETACHED, None)
    assert _units(placement, instance, host['pool']) == 2  # own + B
    assert _active(services, second).base_units == 1

    b = flow.report_state(services, _active(services, second),
                          models.ATTACHED, None)
    flow.detach(services, b)
    flow.report_state(services, _record(services, b), models.DETACHED, None)
    assert _units(placement, instance, host['pool']) == 1  # Nova's own


def test_claim_racing_a_release_of_the_same_instance_and_pool(
        services, placement, unique_name):
    """B read the records while A was still active, A's release ran before
    B's write: B's write must not bring A's unit back."""
    host = _host(services, placement, unique_name, units=4)
    first, second = host['accelerators'][:2]
    instance = _instance(placement, host, own_units=0)
    a = flow.report_state(services, _instance_attach(services, first,
                                                     instance),
                          models.ATTACHED, None)
    flow.detach(services, a)
    services.placement.before.append(
        lambda: flow.report_state(services, _record(services, a),
                                  models.DETACHED, None))
    _instance_attach(services, second, instance)
    assert _units(placement, instance, host['pool']) == 1  # B only
    bindings.repair_host(services, host['name'])
    assert _units(placement, instance, host['pool']) == 1


def test_sweep_leaves_instances_without_api_claims_alone(
        services, placement, unique_name):
    host = _host(services, placement, unique_name)
    novas = _instance(placement, host, own_units=2)
    bindings.repair_host(services, host['name'])
    assert _units(placement, novas, host['pool']) == 2


def test_sweep_restores_a_host_claim_its_record_holds(services, placement,
                                                      unique_name):
    """An attached host attachment whose unit is gone from Placement (taken
    by hand): the sweep claims it again, so Nova cannot schedule it."""
    host = _host(services, placement, unique_name)
    accelerator = host['accelerators'][0]
    record = _attached(services, host, accelerator)
    consumer = claims.read(placement, record.consumer_uuid)
    placement.put(f'/allocations/{record.consumer_uuid}', {
        'allocations': {}, 'consumer_generation': consumer.generation,
        'project_id': 'p1', 'user_id': 'u1',
        'consumer_type': claims.HOST_CONSUMER}, microversion='1.38')
    bindings.repair_host(services, host['name'])
    assert _used(placement, host['pool']) == 1
