"""The data layer on every backend: schema from migrations, uniqueness rules,
ETag revisions, device reports, the host change feed, device profiles and
accelerator requests."""
import concurrent.futures
import threading

from alembic import autogenerate
from alembic import migration as alembic_migration
import pytest
import sqlalchemy as sa

from cyborg_placement.db import accelerator_requests
from cyborg_placement.db import accelerators
from cyborg_placement.db import attachments
from cyborg_placement.db import device_profiles
from cyborg_placement.db import exceptions
from cyborg_placement.db import migration
from cyborg_placement.db import models
from cyborg_placement.db import reports


def _unit(address, **extra):
    return {'pci_address': address, 'vendor_id': '10de', 'product_id': '2330',
            'device_type': 'GPU', 'resource_class': 'PGPU',
            'pool_provider_uuid': '6f1c1a57-5b0c-5f0e-8a43-2a0d3c1f6a01',
            **extra}


def test_migrations_create_what_the_models_describe(database):
    with database.engine.connect() as connection:
        context = alembic_migration.MigrationContext.configure(
            connection, opts={'compare_type': True})
        diff = autogenerate.compare_metadata(context, models.Base.metadata)
    assert diff == []
    migration.upgrade(database)  # a second sync changes nothing
    assert migration.current_revision(database) == '0010'


def test_upgrade_from_0001_keeps_attachments(fresh_database, unique_name):
    """A database made before host attach requests named a driver: its
    attachments survive the upgrade, with no driver (the agent's rules)."""
    database = fresh_database
    migration.upgrade(database, '0001')
    rows = {'host': unique_name, 'yes': True, 'now': models._now(),
            'accelerator': '6a0e5e0c-3d6f-4c56-9a57-1f0a4b8c2d11',
            'attachment': '0b1c8f7e-5d43-4a43-9d7c-0f1e2d3c4b5a'}
    with database.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO accelerators (uuid, name, host, pci_address, "
            "device_type, remotable, state, revision, created_at) VALUES "
            "(:accelerator, :host, :host, '0000:3b:00.0', 'GPU', 0, "
            "'available', 1, :now)"), rows)
        connection.execute(sa.text(
            "INSERT INTO attachments (uuid, accelerator_id, "
            "active_accelerator_id, agent_host, host, state, api_claim, "
            "claimed, base_units, host_revision, created_at) "
            "SELECT :attachment, id, id, :host, :host, 'attached', :yes, "
            ":yes, 0, 1, :now FROM accelerators WHERE uuid = :accelerator"),
            rows)

    migration.upgrade(database)

    assert migration.current_revision(database) == '0010'
    kept = attachments.get(database, rows['attachment'])
    assert (kept.state, kept.host, kept.driver) == (
        models.ATTACHED, unique_name, None)
    attachments.finish(database, kept, models.DETACHED)
    named = attachments.begin_attach(database, kept.accelerator,
                                     consumer_uuid=rows['accelerator'],
                                     host=unique_name, driver='vfio-pci')
    assert attachments.get(database, named.uuid).driver == 'vfio-pci'


def test_names_and_uuids_are_unique(database, unique_name):
    record = accelerators.create(database, unique_name,
                                 specs={'device_type': 'CRYPTO', 'num': 1})
    with pytest.raises(exceptions.DuplicateName):
        accelerators.create(database, unique_name)
    with pytest.raises(exceptions.DuplicateUuid):
        accelerators.create(database, unique_name + 'x', uuid=record.uuid)
    shown = accelerators.get(database, record.uuid)
    assert accelerators.specs_of(shown.accelerator) == {
        'device_type': 'CRYPTO', 'num': 1, 'remote': 0}


def test_stale_revision_is_refused_and_current_one_applies(database,
                                                           unique_name):
    record = accelerators.create(database, unique_name)
    updated = accelerators.update_specs(
        database, record.uuid, {'remote': 1, 'acc_capability': {'ipsec': 2}},
        if_revision=record.revision)
    assert updated.revision == record.revision + 1
    assert updated.remotable == 1
    with pytest.raises(exceptions.StaleRevision):
        accelerators.update_specs(database, record.uuid, {'remote': 0},
                                  if_revision=record.revision)
    assert accelerators.get_record(database, record.uuid).remotable == 1


def test_report_keeps_uuids_and_marks_held_units_missing(database,
                                                         unique_name):
    host = unique_name
    first = reports.apply_report(
        database, host, [_unit('0000:3b:00.0'), _unit('0000:3c:00.0')])
    uuids = {v.accelerator.pci_address: v.accelerator.uuid for v in first}
    held = accelerators.get_record(database, uuids['0000:3b:00.0'])
    attachments.begin_attach(database, held, consumer_uuid=held.uuid,
                             host=host)

    again = reports.apply_report(database, host, [_unit('0000:3d:00.0')])

    by_address = {v.accelerator.pci_address: v.accelerator for v in again}
    assert set(by_address) == {'0000:3b:00.0', '0000:3d:00.0'}
    assert by_address['0000:3b:00.0'].uuid == uuids['0000:3b:00.0']
    assert by_address['0000:3b:00.0'].state == models.MISSING
    assert by_address['0000:3d:00.0'].state == models.AVAILABLE
    back = reports.apply_report(database, host, [_unit('0000:3b:00.0')])
    assert [(v.accelerator.uuid, v.accelerator.state) for v in back] == [
        (uuids['0000:3b:00.0'], models.AVAILABLE)]


def test_exactly_one_of_concurrent_attaches_wins(database, unique_name):
    [view] = reports.apply_report(database, unique_name,
                                  [_unit('0000:3b:00.0')])
    start = threading.Barrier(8)

    def attach(n):
        start.wait()
        try:
            attachments.begin_attach(database, view.accelerator,
                                     consumer_uuid=view.accelerator.uuid,
                                     host=f'target-{n}')
            return 'won'
        except exceptions.AlreadyAttached:
            return 'lost'

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attach, range(8)))
    assert results.count('won') == 1


def test_change_feed_returns_changes_in_order(database, unique_name):
    host = unique_name
    views = reports.apply_report(
        database, host, [_unit('0000:3b:00.0'), _unit('0000:3c:00.0')])
    made = [attachments.begin_attach(database, v.accelerator,
                                     consumer_uuid=v.accelerator.uuid,
                                     host=host) for v in views]
    assert attachments.changes(database, host, 0, 100)[0] == []  # unclaimed
    claimed = [attachments.mark_claimed(database, a) for a in made]
    rows, revision = attachments.changes(database, host, 0, 100)
    assert [r.uuid for r in rows] == [a.uuid for a in claimed]

    attached = attachments.finish(database, claimed[1], models.ATTACHED)
    rows, latest = attachments.changes(database, host, revision, 100)
    assert [(r.uuid, r.state) for r in rows] == [
        (attached.uuid, models.ATTACHED)]
    assert attachments.changes(database, host, latest, 100)[0] == []
    assert attachments.changes(database, host + '-other', 0, 100) == ([], 0)


def test_state_reports_follow_the_transitions(database, unique_name):
    [view] = reports.apply_report(database, unique_name,
                                  [_unit('0000:3b:00.0')])
    record = attachments.begin_attach(database, view.accelerator,
                                      consumer_uuid=view.accelerator.uuid)
    with pytest.raises(exceptions.InvalidTransition):
        attachments.check_transition(record, models.ATTACHED)  # no claim
    with pytest.raises(exceptions.InvalidTransition):
        attachments.check_transition(record, models.DETACHED)
    record = attachments.mark_claimed(database, record)
    assert attachments.check_transition(record, models.ATTACHED) is True
    failed = attachments.finish(database, record, models.ATTACH_FAILED,
                                'no IOMMU')
    assert attachments.check_transition(failed, models.ATTACH_FAILED) is False
    shown = accelerators.get(database, view.accelerator.uuid)
    assert shown.attachment.reason == 'no IOMMU'
    assert attachments.active_for(database, view.accelerator.id) is None


def _columns(record, table) -> dict:
    return {name: getattr(record, name) for name in table.c.keys()}


def test_a_page_shows_what_reading_each_unit_shows(database, unique_name):
    """Lists read plain rows (and each JSON text once): every listed unit
    and its shown attachment are what reading that unit alone gives, with
    filters, with a marker, and for an instance's units."""
    views = reports.apply_report(database, unique_name, [
        _unit(f'0000:3b:00.{n}') for n in range(5)])
    uuids = [v.accelerator.uuid for v in views]
    for uuid in uuids[:3]:
        accelerators.update_specs(database, uuid, {
            'device_type': 'GPU', 'acc_capability': {'vgpu': [1, 2]}})
    failed = attachments.mark_claimed(database, attachments.begin_attach(
        database, views[1].accelerator, consumer_uuid=uuids[1]))
    attachments.finish(database, failed, models.ATTACH_FAILED, 'no IOMMU')
    instance = '3b6c8f7e-5d43-4a43-9d7c-0f1e2d3c4b5a'
    for view in (views[1], views[3]):
        attachments.begin_attach(database, view.accelerator,
                                 consumer_uuid=instance,
                                 instance_uuid=instance, project_id='p1')

    pages = {
        'host': accelerators.list_views(database, limit=10,
                                        host=unique_name),
        'after a marker': accelerators.list_views(
            database, limit=2, marker=uuids[0], host=unique_name),
        'instance': accelerators.list_views(database, limit=10,
                                            instance_uuid=instance)}

    assert {name: [v.accelerator.uuid for v in page]
            for name, page in pages.items()} == {
        'host': uuids, 'after a marker': uuids[1:3],
        'instance': [uuids[1], uuids[3]]}
    for page in pages.values():
        for view in page:
            alone = accelerators.get(database, view.accelerator.uuid)
            assert _columns(view.accelerator, models.Accelerator.__table__
                            ) == _columns(alone.accelerator,
                                          models.Accelerator.__table__)
            assert (view.attachment is None) == (alone.attachment is None)
            if view.attachment is not None:
                assert _columns(view.attachment, models.Attachment.__table__
                                ) == _columns(alone.attachment,
                                              models.Attachment.__table__)
                assert view.attachment.accelerator.uuid == (
                    view.accelerator.uuid)
    held = [v.attachment is not None and v.attachment.holds_accelerator
            for v in pages['host']]
    assert held == [False, True, False, True, False]
    assert pages['host'][0].accelerator.acc_capability == {'vgpu': [1, 2]}


def _bound_arqs(database, unique_name, units: int):
    """A profile of one group of ``units`` units, its ARQs, and a binding
    of each of the host's units to one instance."""
    profile = device_profiles.create(database, unique_name,
                                     [{'resources:PGPU': str(units)}])
    arqs = accelerator_requests.create(database, profile, [units], 'p1', 'u1')
    views = reports.apply_report(database, unique_name, [
        _unit(f'0000:3b:00.{n}') for n in range(units)])
    made = [attachments.begin_binding(database, v.accelerator,
                                      instance_uuid=profile.uuid,
                                      project_id='p1', user_id='u1')
            for v in views]
    return profile, arqs, made


def test_profile_names_are_unique_and_in_use_profiles_stay(database,
                                                           unique_name):
    profile, arqs, _ = _bound_arqs(database, unique_name, 1)
    with pytest.raises(exceptions.DeviceProfileNameTaken):
        device_profiles.create(database, unique_name, [])
    with pytest.raises(exceptions.DeviceProfileInUse):
        device_profiles.delete(database, profile.uuid)
    accelerator_requests.delete(database, arqs)
    device_profiles.delete(database, profile.uuid)
    with pytest.raises(exceptions.DeviceProfileNotFound):
        device_profiles.get(database, name=unique_name)


def _target(arq, binding) -> tuple:
    return (arq, binding, {'hostname': 'h', 'instance_uuid': binding.
                           instance_uuid, 'device_rp_uuid': 'rp'})


def test_a_binding_goes_to_one_request_and_a_bind_is_all_or_none(
        database, unique_name):
    """Two ARQs onto one binding: the unique index refuses, and the ARQ
    the same call bound first stays Initial too."""
    _, (first, second), (binding, _) = _bound_arqs(database, unique_name, 2)
    with pytest.raises(exceptions.AcceleratorRequestChanged):
        accelerator_requests.bind(database, [_target(first, binding),
                                             _target(second, binding)])
    states = {a.uuid: (a.state, a.attachment_id) for a in
              accelerator_requests.list_all(database,
                                            uuids=[first.uuid, second.uuid])}
    assert states == {first.uuid: ('Initial', None),
                      second.uuid: ('Initial', None)}


def test_exactly_one_of_concurrent_binds_of_a_request_wins(database,
                                                           unique_name):
    _, (arq, _), bindings = _bound_arqs(database, unique_name, 2)
    start = threading.Barrier(2)

    def bind(binding):
        start.wait()
        try:
            accelerator_requests.bind(database, [_target(arq, binding)])
            return 'won'
        except exceptions.AcceleratorRequestChanged:
            return 'lost'

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(bind, bindings)) == ['lost', 'won']
    (found,) = accelerator_requests.list_all(database, uuids=[arq.uuid])
    assert found.state == 'Bound'


def test_a_request_whose_unit_left_keeps_no_binding(database, unique_name):
    """A unit gone from the host's report (its binding released, the unit
    deleted) leaves its ARQ without binding, on every backend's foreign
    keys."""
    _, (arq,), (binding,) = _bound_arqs(database, unique_name, 1)
    accelerator_requests.bind(database, [_target(arq, binding)])
    attachments.release_binding(database, binding, 'unit gone')
    reports.apply_report(database, unique_name, [])
    (found,) = accelerator_requests.list_all(database, uuids=[arq.uuid])
    assert (found.state, found.attachment_id, found.attachment) == (
        'Bound', None, None)
