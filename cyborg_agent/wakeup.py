"""The agent's side of wake-ups: an oslo.messaging RPC server on topic
``cyborg-agent``, server = this host's name, whose methods wake the
reconciler (``wake_up``, cast by the API) and the publication
(``publish``, cast by :func:`ask_to_publish` from ``cyborg-agent vgpu``
once it made or deleted a vGPU, which changed what the GPU can still make).

The server connects in a thread of its own: while the broker is down or
gone oslo.messaging keeps reconnecting (logged once per outage, see
:func:`rpc.log_outages_once`), and the reconciler polls meanwhile, every
``[agent] woken_reconcile_interval``.
"""
import threading

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging

from cyborg_placement import rpc

LOG = logging.getLogger(__name__)


class _Endpoint:
    target = messaging.Target(version=rpc.VERSION)

    def __init__(self, woken: threading.Event,
                 publish_now: threading.Event) -> None:
        self.woken = woken
        self.publish_now = publish_now

    def wake_up(self, context) -> None:
        """Something this host's reconciler acts on changed in the API."""
        LOG.debug('Woken up: reconciling now')
        self.woken.set()

    def publish(self, context) -> None:
        """A vGPU was made or deleted on this host: Placement must learn
        what its GPU can still make before it offers what it cannot."""
        LOG.debug('Asked to publish: publishing now')
        self.publish_now.set()


class WakeupServer:
    def __init__(self, conf: cfg.ConfigOpts, host: str,
                 woken: threading.Event,
                 publish_now: threading.Event) -> None:
        self.server = messaging.get_rpc_server(
            rpc.rpc_transport(conf), rpc.agent_target(host),
            [_Endpoint(woken, publish_now)], executor='threading')
        self.host = host
        self.started = False

    def start(self) -> None:
        """Listen from a thread: start() waits for the broker."""
        threading.Thread(target=self._start, name='wakeup-server',
                         daemon=True).start()

    def _start(self) -> None:
        try:
            self.server.start()
        except Exception:
            LOG.exception('Wake-ups off: the RPC server did not start; '
                          'attachments are found by polling')
            return
        self.started = True
        LOG.info('Listening for wake-ups on topic %s as %s', rpc.TOPIC,
                 self.host)

    def stop(self) -> None:
        if self.started:
            self.server.stop()


def ask_to_publish(conf: cfg.ConfigOpts, host: str) -> str | None:
    """Cast ``publish`` to ``host``'s agent, with ``[DEFAULT]
    transport_url``; why it was not sent, or None. Fire-and-forget: a cast
    that is lost costs the wait for the agent's next cycle, nothing more."""
    if not rpc.configured(conf):
        return None
    transport = rpc.rpc_transport(conf)
    try:
        # retry=0: a broker away fails at once; the caller does not wait.
        messaging.get_rpc_client(transport, rpc.agent_target()).prepare(
            server=host, retry=0).cast({}, 'publish')
    except messaging.MessagingException as exc:
        return f'the agent of {host} publishes at its next cycle: {exc}'
    finally:
        transport.cleanup()
    return None
