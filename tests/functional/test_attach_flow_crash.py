"""An attach interrupted by the API process dying is finished or rolled back
by the host's next reconcile. The worker dies through the test-only crash
point (os._exit right after a step, as a kill would); gunicorn starts a new
worker, and the reconciler's next fetch repairs the record. Each case runs on
SQLite and on PostgreSQL."""
import uuid

import pytest
import requests

from cyborg_placement import crash_points
from tools.harness.api_server import ApiServer
from tools.harness.api_server import make_host


@pytest.fixture(params=['sqlite', 'postgresql'])
def crash_database(request, tmp_path) -> str:
    """The crashing server's database: a file of its own, or the session's
    PostgreSQL database (tests stay apart by their unique host names)."""
    if request.param == 'sqlite':
        return f'sqlite:///{tmp_path}/cyborg.sqlite'
    return request.getfixturevalue('postgresql_url')


@pytest.fixture
def crashing_server(request, crash_database, placement_server, tmp_path):
    server = ApiServer(
        tmp_path, crash_database, placement_server.url,
        workers=1, api_options={'attach_recovery_seconds': 0},
        env={crash_points.ENV: request.param})
    server.start()
    yield server
    server.stop()


def _attach_and_die(server, placement, host):
    made = make_host(placement, host, units=1)
    service = server.client(token='s', roles='service')
    accelerator = service.put(f'/hosts/{host}/accelerators',
                              json=made['report']).json()['accelerators'][0]
    instance = str(uuid.uuid4())
    with pytest.raises(requests.ConnectionError):
        server.client().put(f'/accelerators/{accelerator["uuid"]}',
                            json={'instance_uuid': instance})
    server.wait_ready(30)
    return made, service, accelerator, instance


def _units(placement, consumer, pool):
    held = placement.get(f'/allocations/{consumer}')['allocations']
    return held.get(pool, {}).get('resources', {}).get('PGPU', 0)


@pytest.mark.parametrize('crashing_server', ['after_claim'], indirect=True)
def test_claim_made_before_the_crash_is_finished(crashing_server, placement,
                                                 unique_name):
    made, service, accelerator, instance = _attach_and_die(
        crashing_server, placement, unique_name)
    assert _units(placement, instance, made['pool']) == 1
    feed = service.get(f'/hosts/{unique_name}/attachments').json()
    assert [(a['instance_uuid'], a['state']) for a in feed['attachments']] \
        == [(instance, 'attaching')]
    assert _units(placement, instance, made['pool']) == 1
    service.get(f'/hosts/{unique_name}/attachments')  # again: no change
    assert _units(placement, instance, made['pool']) == 1


@pytest.mark.parametrize('crashing_server', ['after_record'], indirect=True)
def test_crash_before_the_claim_is_rolled_back(crashing_server, placement,
                                               unique_name):
    made, service, accelerator, instance = _attach_and_die(
        crashing_server, placement, unique_name)
    feed = service.get(f'/hosts/{unique_name}/attachments').json()
    assert feed['attachments'] == []
    shown = crashing_server.client().get(
        f'/accelerators/{accelerator["uuid"]}').json()
    assert shown['attachment']['state'] == 'attach_failed'
    assert 'interrupted' in shown['attachment']['reason']
    assert _units(placement, instance, made['pool']) == 0
