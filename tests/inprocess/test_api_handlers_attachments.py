"""``PUT /attachments/{uuid}/state``: the host reconciler's result; a final
state gives the claim back to Placement."""
import uuid

import pytest

from tests.inprocess import scenario
from tests.inprocess.scenario import code


@pytest.fixture
def gpus(placement, service):
    return scenario.reported_host(placement, service)


@pytest.fixture
def attached(admin, placement, gpus):
    """An instance's attach, claimed in Placement, not yet done by the host."""
    instance = scenario.instance(placement, gpus['root'])
    answer = admin.put(f'/accelerators/{gpus["uuids"][0]}',
                       json={'instance_uuid': instance})
    return dict(answer.json['attachment'], instance=instance,
                accelerator=f'/accelerators/{gpus["uuids"][0]}')


def _report(service, attachment, state, **body):
    return service.put(f'/attachments/{attachment["uuid"]}/state',
                       json={'state': state, **body})


def test_attached_then_detached_gives_the_unit_back(
        admin, service, placement, gpus, attached):
    done = _report(service, attached, 'attached')
    assert (done.status_code, done.json['state']) == (200, 'attached')
    assert _report(service, attached, 'attached').json['state'] == 'attached'
    assert scenario.units_held(placement, attached['instance'],
                               gpus['pool']) == 1

    admin.delete(attached['accelerator'])
    gone = _report(service, attached, 'detached')
    assert (gone.status_code, gone.json['state']) == (200, 'detached')
    assert scenario.units_held(placement, attached['instance'],
                               gpus['pool']) == 0
    # The instance's own allocation (Nova's) stays.
    assert placement.get(f'/allocations/{attached["instance"]}')[
        'allocations'][gpus['root']]['resources'] == {'VCPU': 2}
    again = admin.put(attached['accelerator'],
                      json={'instance_uuid': attached['instance']})
    assert again.status_code == 200


def test_attach_failed_keeps_the_reason_and_releases_the_claim(
        service, placement, gpus, attached):
    failed = _report(service, attached, 'attach_failed',
                     reason='IOMMU group busy')
    assert (failed.json['state'], failed.json['reason']) == (
        'attach_failed', 'IOMMU group busy')
    assert scenario.units_held(placement, attached['instance'],
                               gpus['pool']) == 0


def test_a_final_state_is_final(service, attached):
    _report(service, attached, 'attach_failed')
    answer = _report(service, attached, 'attached')
    assert (answer.status_code, code(answer)) == (
        409, 'attachment.state.conflict')


def test_refusals(service, caller, attached):
    unknown = service.put(f'/attachments/{uuid.uuid4()}/state',
                          json={'state': 'attached'})
    assert (unknown.status_code, code(unknown)) == (
        404, 'attachment.not_found')
    malformed = service.put('/attachments/nope/state',
                            json={'state': 'attached'})
    assert (malformed.status_code, code(malformed)) == (
        400, 'api.invalid_input')
    for body in ({'state': 'attaching'}, {}, {'state': 'attached',
                                               'reason': 'x' * 1025}):
        bad = service.put(f'/attachments/{attached["uuid"]}/state', json=body)
        assert (bad.status_code, code(bad)) == (400, 'api.invalid_input'), body
    owner = caller(token='member', roles='member', project_id='p1')
    refused = _report(owner, attached, 'attached')
    assert (refused.status_code, code(refused)) == (403, 'api.forbidden')
