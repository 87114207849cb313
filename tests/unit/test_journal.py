"""The reconciler's journal survives a crash in the middle of a write."""
from cyborg_agent.journal import Journal


def test_records_round_trip_and_go(tmp_path):
    journal = Journal(tmp_path / 'state')
    assert journal.uuids() == [] and journal.get('a1') is None
    journal.put('a1', {'address': '0000:3b:00.0', 'driver': 'vfio-pci'})
    journal.put('a1', {'address': '0000:3b:00.0', 'done': True})
    assert Journal(tmp_path / 'state').get('a1') == {
        'address': '0000:3b:00.0', 'done': True}
    journal.remove('a1')
    journal.remove('a1')  # twice: a repeated detach after a crash
    assert journal.uuids() == []


def test_half_written_replacement_is_not_a_record(tmp_path):
    journal = Journal(tmp_path)
    journal.put('a1', {'driver': 'vfio-pci'})
    (tmp_path / 'a2.tmp').write_text('{"driv')  # killed before the rename
    assert journal.uuids() == ['a1']
    assert journal.get('a1') == {'driver': 'vfio-pci'}
