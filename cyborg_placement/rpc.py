"""oslo.messaging as the API and the agent use it: the transport and the
agents' topic, shared by both sides.

The API casts to a host's agent on topic ``cyborg-agent``, the server being
the host's name, as Nova's compute RPC API addresses a nova-compute; the
agent's RPC server wakes its reconciler. The agent's own ``vgpu`` command
casts to its host's agent too, to publish at once what a vGPU changed. Only
``[DEFAULT] transport_url`` set in the configuration turns this on: without
it nothing connects anywhere and the agent polls alone, as it did before
wake-ups.
"""
import logging

from oslo_config import cfg
import oslo_messaging as messaging

#: The agents' topic; each agent is the server named after its host.
TOPIC = 'cyborg-agent'
#: The agent's RPC API. 1.0: ``wake_up()``; 1.1: ``publish()``.
VERSION = '1.1'
#: The exchange our topics live in, as Nova's are in ``nova``.
EXCHANGE = 'cyborg'


def set_defaults() -> None:
    """oslo.messaging's defaults for this project (our own exchange); also
    the sample generator's hook (``oslo.config.opts.defaults``)."""
    messaging.set_transport_defaults(EXCHANGE)


def configured(conf: cfg.ConfigOpts) -> bool:
    """Whether the operator set ``[DEFAULT] transport_url``.

    oslo.messaging's own default (``rabbit://``, a broker on this host)
    does not count: a cloud without a broker must not wait for one.
    """
    set_defaults()
    log_outages_once()
    messaging.TransportURL.parse(conf)  # registers the transport options
    location = conf.get_location('transport_url')
    return location.location is not cfg.Locations.opt_default


def rpc_transport(conf: cfg.ConfigOpts) -> messaging.Transport:
    return messaging.get_rpc_transport(conf)


def agent_target(host: str | None = None) -> messaging.Target:
    """The agent of ``host`` (None: any agent's topic, for a client)."""
    return messaging.Target(topic=TOPIC, server=host, version=VERSION)


class _OncePerOutage(logging.Filter):
    """Let the first "broker unreachable" line of an outage through, and
    the line that says it is back; oslo.messaging's driver repeats the
    first on every retry (every few seconds while the broker is away)."""

    _DOWN = ('Connection failed', 'is unreachable', 'Failed to publish',
             'Unable to connect')
    _UP = ('Reconnected', 'Connected to AMQP')

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(mark in message for mark in self._UP):
            was_down, self.down = self.down, False
            return was_down
        if any(mark in message for mark in self._DOWN):
            was_down, self.down = self.down, True
            return not was_down
        return True


def log_outages_once() -> None:
    """Say a broker outage once, and its end, per process (oslo.log names
    oslo.messaging's loggers ``oslo.messaging.*``)."""
    driver = logging.getLogger('oslo.messaging._drivers.impl_rabbit')
    if not any(isinstance(f, _OncePerOutage) for f in driver.filters):
        driver.addFilter(_OncePerOutage())
