"""vGPU units in the data layer, on every backend: one unit per (VF,
profile), upserted by address and type, a VF given out through one unit
at a time, and databases made before them upgraded without loss."""
import concurrent.futures
import threading

import pytest
import sqlalchemy as sa

from cyborg_placement.db import accelerators
from cyborg_placement.db import attachments
from cyborg_placement.db import exceptions
from cyborg_placement.db import migration
from cyborg_placement.db import models
from cyborg_placement.db import reports

POOL_1 = '6f1c1a57-5b0c-5f0e-8a43-2a0d3c1f6a01'
POOL_2 = '6f1c1a57-5b0c-5f0e-8a43-2a0d3c1f6a02'
PARENT = '0000:41:00.0'


def _vgpu(vf: str, vgpu_type: str, profile: str, pool: str = POOL_1,
          **extra) -> dict:
    """An H200 VF's vendor-VFIO unit of one profile."""
    return {'pci_address': vf, 'vendor_id': '10de', 'product_id': '2335',
            'device_type': 'GPU', 'resource_class': 'VGPU',
            'pool_provider_uuid': pool, 'vgpu_interface': 'vfio',
            'vgpu_type': vgpu_type, 'vgpu_profile': profile,
            'parent_address': PARENT, **extra}


def _two_profiles(vf: str) -> list[dict]:
    return [_vgpu(vf, '1414', 'NVIDIA H200X-1-18C'),
            _vgpu(vf, '1415', 'NVIDIA H200X-2-35C', POOL_2)]


def test_units_of_one_vf_are_told_apart_by_type(database, unique_name):
    first = reports.apply_report(database, unique_name,
                                 _two_profiles('0000:41:00.4'))
    by_type = {v.accelerator.vgpu_type: v.accelerator for v in first}
    assert {t: (u.pci_address, u.vgpu_profile, u.parent_address, u.name)
            for t, u in by_type.items()} == {
        '1414': ('0000:41:00.4', 'NVIDIA H200X-1-18C', PARENT,
                 f'{unique_name}:0000:41:00.4:1414'),
        '1415': ('0000:41:00.4', 'NVIDIA H200X-2-35C', PARENT,
                 f'{unique_name}:0000:41:00.4:1415')}

    # The driver stops listing a profile: that unit goes, the other stays.
    [kept] = reports.apply_report(
        database, unique_name,
        [_vgpu('0000:41:00.4', '1415', 'NVIDIA H200X-2-35C', POOL_2)])
    assert kept.accelerator.uuid == by_type['1415'].uuid
    assert kept.accelerator.state == models.AVAILABLE


def test_a_vf_is_given_out_through_one_of_its_units(database, unique_name):
    """Binding one profile of a VF takes the VF: its other units are no
    longer free, and binding one of them is refused, even concurrently."""
    views = reports.apply_report(
        database, unique_name,
        _two_profiles('0000:41:00.4') + _two_profiles('0000:41:00.5'))
    units = {(v.accelerator.pci_address, v.accelerator.vgpu_type):
             v.accelerator for v in views}
    start = threading.Barrier(2)

    def bind(vgpu_type):
        start.wait()
        try:
            attachments.begin_binding(
                database, units[('0000:41:00.4', vgpu_type)],
                instance_uuid=units[('0000:41:00.4', vgpu_type)].uuid,
                project_id='p1', user_id='u1')
            return 'won'
        except exceptions.AlreadyAttached:
            return 'lost'

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(bind, ['1414', '1415'])) == ['lost', 'won']
    free = {(u.pci_address, u.vgpu_type) for pool in (POOL_1, POOL_2)
            for u in attachments.free_units(database, pool, unique_name)}
    assert free == {('0000:41:00.5', '1414'), ('0000:41:00.5', '1415')}
    assert accelerators.host_units(database, unique_name).held == [
        '0000:41:00.4']


def test_mdev_units_keep_their_uuid(database, unique_name):
    [view] = reports.apply_report(database, unique_name, [_vgpu(
        '0000:81:00.4', 'nvidia-692', 'GRID A100-4C', vgpu_interface='mdev',
        mdev_uuid='c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e8f')])
    shown = accelerators.get(database, view.accelerator.uuid).accelerator
    assert (shown.vgpu_interface, shown.mdev_uuid) == (
        'mdev', 'c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e8f')


def test_upgrade_from_0007_keeps_units_and_their_attachments(
        fresh_database, unique_name):
    """0008 rebuilds the accelerators table on SQLite: rows that refer to
    it (attachments, attributes) survive, and whole devices have no type."""
    database = fresh_database
    migration.upgrade(database, '0007')
    rows = {'host': unique_name, 'yes': True, 'now': models._now(),
            'accelerator': '6a0e5e0c-3d6f-4c56-9a57-1f0a4b8c2d11',
            'attachment': '0b1c8f7e-5d43-4a43-9d7c-0f1e2d3c4b5a'}
    with database.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO accelerators (uuid, name, host, pci_address, "
            "device_type, remotable, state, revision, created_at, health, "
            "disabled) VALUES (:accelerator, :host, :host, '0000:3b:00.0', "
            "'GPU', 0, 'available', 1, :now, 'healthy', :yes)"), rows)
        connection.execute(sa.text(
            "INSERT INTO attachments (uuid, accelerator_id, "
            "active_accelerator_id, agent_host, host, state, api_claim, "
            "claimed, released, base_units, host_revision, created_at) "
            "SELECT :attachment, id, id, :host, :host, 'attached', :yes, "
            ":yes, false, 0, 1, :now FROM accelerators "
            "WHERE uuid = :accelerator"), rows)

    migration.upgrade(database)

    assert migration.current_revision(database) == '0010'
    kept = attachments.get(database, rows['attachment'])
    assert (kept.state, kept.accelerator.uuid, kept.accelerator.vgpu_type,
            kept.accelerator.disabled) == (
        models.ATTACHED, rows['accelerator'], None, True)
    # Foreign keys are on again: a unit of nobody's is refused.
    with pytest.raises(sa.exc.IntegrityError):
        with database.engine.begin() as connection:
            connection.execute(models.Attribute.__table__.insert().values(
                uuid='a', accelerator_id=999999, key='k', value='v',
                created_at=rows['now']))
