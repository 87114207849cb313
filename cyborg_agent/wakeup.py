"""The agent's side of wake-ups: an oslo.messaging RPC server on topic
``cyborg-agent``, server = this host's name, whose one method wakes the
reconciler.

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

    def __init__(self, woken: threading.Event) -> None:
        self.woken = woken

    def wake_up(self, context) -> None:
        """Something this host's reconciler acts on changed in the API."""
        LOG.debug('Woken up: reconciling now')
        self.woken.set()


class WakeupServer:
    def __init__(self, conf: cfg.ConfigOpts, host: str,
                 woken: threading.Event) -> None:
        self.server = messaging.get_rpc_server(
            rpc.rpc_transport(conf), rpc.agent_target(host),
            [_Endpoint(woken)], executor='threading')
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
