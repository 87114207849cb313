"""The payloads' schemas: a change without a new version fails here (as
Nova's test_notification object hashes do), and the samples in
docs/notification_samples are valid payloads of today's versions, one per
event the API emits."""
import json
import pathlib

from oslo_versionedobjects import fixture
import pytest

from cyborg_placement.notifications import objects

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / 'docs' \
    / 'notification_samples'

#: Bump the object's VERSION (and say why in its comment) when a hash moves.
EXPECTED = {
    'AcceleratorActionPayload': '1.0-7fbe848c6e845e4ef73a13034b23ad93',
    'AcceleratorPayload': '1.0-543dd3d378d4802fa36f036fdb269f43',
    'AttachmentPayload': '1.0-84f3ccfe9fabe005290da378059e8467',
}

EVENTS = ('create', 'delete', 'health.update', 'disable', 'enable',
          'attach.start', 'attach.end', 'attach.error', 'detach.start',
          'detach.end', 'detach.error', 'bind', 'release')


def _ours() -> dict:
    return {name: classes for name, classes in
            objects.NotificationObjectRegistry.obj_classes().items()
            if classes[0].OBJ_PROJECT_NAMESPACE == 'cyborg'}


def test_each_payload_version_has_the_fields_it_had():
    checker = fixture.ObjectVersionChecker(obj_classes=_ours())
    expected, actual = checker.test_hashes(EXPECTED)
    assert expected == actual


def test_there_is_one_sample_per_event():
    assert sorted(p.name for p in SAMPLES.glob('*.json')) == sorted(
        f'accelerator-{event.replace(".", "-")}.json' for event in EVENTS)


@pytest.mark.parametrize('event', EVENTS)
def test_each_sample_is_a_payload_of_todays_version(event):
    sample = json.loads((SAMPLES / f'accelerator-{event.replace(".", "-")}'
                         '.json').read_text())
    assert sample['event_type'] == f'accelerator.{event}'
    assert sample['priority'] == ('ERROR' if event.endswith('.error')
                                  else 'INFO')
    made = objects.NotificationObject.obj_from_primitive(sample['payload'])
    # Every field there (obj_from_primitive fills none in) and no other.
    assert made.obj_to_primitive() == sample['payload']
    for obj in (made, made.accelerator, made.attachment):
        if obj is not None:
            assert all(obj.obj_attr_is_set(name) for name in obj.fields)
    assert (made.attachment is None) == (event in (
        'create', 'delete', 'health.update', 'disable', 'enable'))
    assert (made.fault is not None) == event.endswith('.error')
