"""Versioned notifications on the real RabbitMQ: a consumer on the
notifications topic receives each ``accelerator.*`` event, in order per
unit, each payload valid against its versioned object.

A real ``cyborg-api`` with ``[oslo_messaging_notifications] driver =
messagingv2`` on a topic of this test's own (the broker is shared by every
run on the machine); the listener is oslo.messaging's, as a billing or
audit service would run it. The host is a compute node and a pool in the
real Placement, its device report and attachment results sent as its
agent would send them.
"""
import collections
import threading
import uuid

from oslo_config import cfg
import oslo_messaging as messaging
import pytest

from cyborg_placement import rpc
from cyborg_placement.notifications import objects
from tools.harness import waiting
from tools.harness.api_server import ApiServer
from tools.harness.api_server import make_host
from tools.harness.tcp_proxy import TcpProxy


class _Consumer:
    """Every notification received, in arrival order."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, dict]] = []
        self._lock = threading.Lock()

    def _take(self, priority, publisher_id, event_type, payload) -> None:
        with self._lock:
            self.received.append((priority, event_type, payload))

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._take('info', publisher_id, event_type, payload)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._take('error', publisher_id, event_type, payload)

    def by_unit(self) -> dict[str, list[str]]:
        events = collections.defaultdict(list)
        for _, event_type, payload in self.received:
            unit = payload['cyborg_object.data']['accelerator']
            events[unit['cyborg_object.data']['uuid']].append(event_type)
        return dict(events)


@pytest.fixture
def topic() -> str:
    return f'notifications-test-{uuid.uuid4().hex[:8]}'


@pytest.fixture
def consumer(rabbitmq_url, topic):
    conf = cfg.ConfigOpts()
    conf([])
    transport = messaging.get_notification_transport(conf, url=rabbitmq_url)
    found = _Consumer()
    listener = messaging.get_notification_listener(
        transport, [messaging.Target(topic=topic, exchange=rpc.EXCHANGE)],
        [found], executor='threading')
    listener.start()
    yield found
    listener.stop()
    listener.wait()
    transport.cleanup()


@pytest.fixture
def api(rabbitmq_url, topic, placement_server, tmp_path):
    server = ApiServer.on_sqlite(tmp_path / 'api', placement_server.url,
                                 sections={
                                     'DEFAULT': {'transport_url': rabbitmq_url},
                                     'oslo_messaging_notifications': {
                                         'driver': 'messagingv2',
                                         'topics': topic}})
    server.start()
    yield server
    server.stop()


def _attachment(admin, unit: str) -> str:
    return admin.get(f'/accelerators/{unit}').json()['attachment']['uuid']


def _report_state(service, attachment: str, state: str, reason=None):
    body = {'state': state, **({'reason': reason} if reason else {})}
    answer = service.put(f'/attachments/{attachment}/state', json=body)
    assert answer.status_code == 200, answer.text


def test_each_event_reaches_a_consumer_in_order_with_a_valid_payload(
        api, consumer, placement, unique_name):
    admin = api.client()
    service = api.client(token='agent', roles='service')
    host = make_host(placement, unique_name)
    report = host['report']
    assert admin.put(f'/hosts/{unique_name}/accelerators',
                     json=report).status_code == 200
    first, second = (a['uuid'] for a in admin.get(
        '/accelerators', params={'host': unique_name}).json()['accelerator'])

    # An operator takes the first unit out of service and puts it back.
    for body in ({'disabled': True, 'reason': 'fan check'},
                 {'disabled': False}):
        assert admin.put(f'/accelerators/{first}/disabled',
                         json=body).status_code == 200
    # Attached to the host and detached; attached again, and failed.
    assert admin.put(f'/accelerators/{first}',
                     json={'host': unique_name}).status_code == 200
    _report_state(service, _attachment(admin, first), 'attached')
    assert admin.delete(f'/accelerators/{first}').status_code == 204
    _report_state(service, _attachment(admin, first), 'detached')
    assert admin.put(f'/accelerators/{first}',
                     json={'host': unique_name}).status_code == 200
    _report_state(service, _attachment(admin, first), 'attach_failed',
                  'vfio-pci is not loaded')
    # Nova's allocation holds a unit: bound (the first is free again, the
    # bind takes it), its detach refused, then released.
    instance = str(uuid.uuid4())
    placement.put(f'/allocations/{instance}', {
        'allocations': {host['pool']: {'resources': {'PGPU': 1}}},
        'consumer_generation': None, 'project_id': 'p1', 'user_id': 'u1',
        'consumer_type': 'INSTANCE'}, microversion='1.38')
    bound = admin.put(f'/instances/{instance}/bindings',
                      json={'host': unique_name}).json()['bindings']
    assert [b['uuid'] for b in bound] == [first]
    assert admin.delete(f'/accelerators/{first}').status_code == 409
    assert admin.delete(f'/instances/{instance}/bindings').status_code == 204
    # The agent finds the second unit unhealthy, then the unit gone.
    report['accelerators'][1].update(health='unhealthy',
                                     health_reason='AER fatal errors')
    assert admin.put(f'/hosts/{unique_name}/accelerators',
                     json=report).status_code == 200
    report['accelerators'].pop(1)
    assert admin.put(f'/hosts/{unique_name}/accelerators',
                     json=report).status_code == 200

    expected = {
        first: ['create', 'disable', 'enable',
                'attach.start', 'attach.end', 'detach.start', 'detach.end',
                'attach.start', 'attach.error',
                'bind', 'detach.error', 'release'],
        second: ['create', 'health.update', 'delete'],
    }
    expected = {unit: [f'accelerator.{e}' for e in events]
                for unit, events in expected.items()}
    try:
        waiting.wait_for(lambda: consumer.by_unit() == expected, 30,
                         'every event, in order per unit')
    except waiting.TimedOut:
        assert consumer.by_unit() == expected
    _check_payloads(consumer.received, first, second, instance, unique_name,
                    host['pool'])


def _check_payloads(received, first, second, instance, host, pool) -> None:
    for priority, event_type, payload in received:
        # Valid against its schema: the versioned object takes it back
        # (field types checked), every field there, at today's version.
        made = objects.NotificationObject.obj_from_primitive(payload)
        assert isinstance(made, objects.AcceleratorActionPayload)
        assert payload['cyborg_object.version'] == made.VERSION
        assert set(payload['cyborg_object.data']) == set(made.fields)
        unit = payload['cyborg_object.data']['accelerator']
        assert set(unit['cyborg_object.data']) == set(
            objects.AcceleratorPayload.fields)
        assert made.accelerator.host == host
        assert made.accelerator.pool_provider_uuid == pool
        assert priority == ('error' if event_type.endswith('.error')
                            else 'info')
    events = {(e, objects.NotificationObject.obj_from_primitive(p)
               .accelerator.uuid): objects.NotificationObject
              .obj_from_primitive(p) for _, e, p in received}
    assert events['accelerator.attach.end', first].attachment.host == host
    assert events['accelerator.attach.end', first].attachment.state == \
        'attached'
    assert events['accelerator.attach.error', first].fault == \
        'vfio-pci is not loaded'
    bind = events['accelerator.bind', first].attachment
    assert (bind.instance_uuid, bind.kind, bind.project_id) == (
        instance, 'binding', 'p1')
    assert 'own allocation' in events['accelerator.detach.error',
                                      first].fault
    assert events['accelerator.disable', first].accelerator.disabled_reason \
        == 'fan check'
    health = events['accelerator.health.update', second].accelerator
    assert (health.health, health.health_reason) == ('unhealthy',
                                                     'AER fatal errors')
    assert events['accelerator.create', second].attachment is None


def test_notifications_wait_for_a_broker_that_went_away(
        rabbitmq_url, topic, consumer, placement, placement_server, tmp_path,
        unique_name):
    broker = TcpProxy(('127.0.0.1', 5672)).start()
    server = ApiServer.on_sqlite(
        tmp_path / 'api', placement_server.url, workers=1, sections={
            'DEFAULT': {'transport_url': broker.url()},
            'oslo_messaging_notifications': {'driver': 'messagingv2',
                                             'topics': topic}})
    server.start()
    try:
        admin = server.client()
        host = make_host(placement, unique_name, units=1)
        assert admin.put(f'/hosts/{unique_name}/accelerators',
                         json=host['report']).status_code == 200
        unit = admin.get('/accelerators', params={
            'host': unique_name}).json()['accelerator'][0]['uuid']
        waiting.wait_for(lambda: consumer.by_unit(), 30, 'the create event')

        broker.stop()
        for body in ({'disabled': True}, {'disabled': False}):
            assert admin.put(f'/accelerators/{unit}/disabled',
                             json=body).status_code == 200
        broker.start()

        waiting.wait_for(lambda: consumer.by_unit()[unit] == [
            'accelerator.create', 'accelerator.disable', 'accelerator.enable'],
            60, 'the events of the outage, in order')
        log = server.log_file.read_text()
        assert log.count('notifications: the message bus is unreachable') == 1
    finally:
        server.stop()
        broker.stop()


def test_a_member_reads_nothing_the_operator_topic_carries(
        api, consumer, placement, unique_name):
    """Payloads carry each unit's host, PCI address and holder, which is
    why the topic is the operators'. What a project's members can read,
    every answer of the API to them, /v2 included, shows none of it for
    another project's unit, even for events their own requests caused."""
    admin = api.client()
    service = api.client(token='agent', roles='service')
    host = make_host(placement, unique_name)
    assert service.put(f'/hosts/{unique_name}/accelerators',
                       json=host['report']).status_code == 200
    held_by_a, tried_by_b = (a['uuid'] for a in admin.get(
        '/accelerators', params={'host': unique_name}).json()['accelerator'])
    # Names that do not hold the host's name, which B must not read.
    project = {p: f'project-{p}-{uuid.uuid4().hex[:8]}' for p in 'ab'}
    member = {p: api.client(token=f'member-{p}', roles='member,reader',
                            project_id=project[p], user_id=f'user-{project[p]}')
              for p in 'ab'}
    instance = {p: str(uuid.uuid4()) for p in 'ab'}

    # A attaches a unit to its instance and the agent completes it.
    assert member['a'].put(f'/accelerators/{held_by_a}', json={
        'instance_uuid': instance['a']}).status_code == 200
    _report_state(service, _attachment(admin, held_by_a), 'attached')
    # B asks for A's unit (refused), then attaches the other one, which
    # the agent fails: B's own request makes attach.start and .error.
    answers = [member['b'].put(f'/accelerators/{held_by_a}', json={
        'instance_uuid': instance['b']})]
    attached = member['b'].put(f'/accelerators/{tried_by_b}', json={
        'instance_uuid': instance['b']})
    assert attached.status_code == 200, attached.text
    _report_state(service, _attachment(admin, tried_by_b), 'attach_failed',
                  'vfio-pci is not loaded')
    v2 = api.client(token='member-b', roles='member,reader',
                    project_id=project['b'], user_id=f'user-{project["b"]}',
                    version=None)
    answers += [member['b'].get(path) for path in (
        '/accelerators', f'/accelerators/{held_by_a}',
        f'/accelerators/{tried_by_b}', f'/instances/{instance["a"]}/bindings',
        f'/instances/{instance["b"]}/bindings')]
    answers += [v2.get(path) for path in (
        '/v2/devices', '/v2/deployables', '/v2/accelerator_requests')]
    assert answers[0].status_code == 409

    expected = {held_by_a: ['accelerator.create', 'accelerator.attach.start',
                            'accelerator.attach.end'],
                tried_by_b: ['accelerator.create', 'accelerator.attach.start',
                             'accelerator.attach.error']}
    waiting.wait_for(lambda: consumer.by_unit() == expected, 30,
                     'the events of both projects')
    carried = [objects.NotificationObject.obj_from_primitive(p)
               for _, _, p in consumer.received]
    # The operators' topic has it all: place and holder of every event.
    assert {(n.accelerator.host, n.accelerator.pci_address)
            for n in carried} == {(unique_name, '0000:3b:00.0'),
                                  (unique_name, '0000:3b:00.1')}
    assert {n.attachment.project_id for n in carried if n.attachment} == {
        project['a'], project['b']}
    # B reads none of A's: while it held its attaching unit, only that
    # unit's place; once its attachment failed (it holds nothing), neither
    # the host nor a PCI address.
    of_a = ['0000:3b:00.0', instance['a'], project['a'],
            f'user-{project["a"]}']
    assert [s for s in of_a if s in attached.text] == [], attached.text
    hidden = of_a + [unique_name, '0000:3b:00.1', host['pool']]
    for answer in answers:
        assert answer.status_code < 500, answer.text
        assert [s for s in hidden if s in answer.text] == [], (
            answer.request.method, answer.request.url, answer.text)
