"""The agent daemon: discovery and publication to Placement, every cycle.

``run`` is what ``cyborg-agent`` calls. The daemon never gives up on
Placement: while it is away (or the compute-node provider is not there yet)
it backs off with jitter and tries again, and its in-memory state makes the
cycle after the outage converge without duplicates. ``--once`` is for scripts:
it retries for a few seconds only, then fails with one line on stderr.
"""
import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging

from cyborg_agent import api_client
from cyborg_agent import attachment_api
from cyborg_agent import discovery
from cyborg_agent import reconciler
from cyborg_agent import report
from cyborg_agent.discovery import rules
from cyborg_agent.discovery.model import Unit
from cyborg_placement.placement import client as placement_client
from cyborg_placement.placement import hostname
from cyborg_placement.placement import retry
from cyborg_placement.placement import sync as placement_sync

LOG = logging.getLogger(__name__)

#: How long ``--once`` keeps retrying an unreachable Placement.
ONCE_RETRY_SECONDS = 5.0

#: Failures that go away by themselves: retried, never fatal to the daemon.
TRANSIENT = (placement_client.PlacementUnreachable,
             placement_sync.RootProviderMissing,
             placement_client.Conflict,
             # The accelerator API's side: device report and attachments.
             report.ReportError,
             attachment_api.ApiUnreachable,
             attachment_api.ApiRefused,
             reconciler.ReconcileIncomplete)


class Agent:
    """One host's publication cycle and the state it keeps between cycles."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.sync = placement_sync.ProviderSync(
            placement_client.PlacementClient.from_conf(conf),
            hostname.root_provider_name(conf),
            manage_root=conf.agent.manage_root_provider,
            pool_by_numa=conf.agent.pool_by_numa)
        self.api = None
        if api_client.is_configured(conf):
            self.api = api_client.make_adapter(conf)
            self.reconciler = reconciler.Reconciler.from_conf(
                conf, self.api, self.sync.root_name)

    def cycle(self) -> None:
        self.publish(discovery.discover_units(self.conf))

    def publish(self, units: list[Unit]) -> None:
        published = self.sync.sync(units)
        if self.api is not None:
            # After publication, so the pools the report names exist; then
            # the attachments of this host, on the units just reported.
            root = self.sync.root_name
            report.send_report(self.api, root, report.build_report(
                units, root, self.conf.agent.pool_by_numa))
            self.reconciler.run_pass()
        LOG.debug('Cycle done: %d unit(s) in %d pool(s)', len(units),
                  len(published))


def _run_once(agent: Agent) -> int:
    """One discovery; publication retried for a few seconds at most."""
    try:
        units = discovery.discover_units(agent.conf)
        retry.until(ONCE_RETRY_SECONDS, retry.Backoff(base=0.5, cap=2.0),
                    lambda: agent.publish(units), TRANSIENT,
                    on_retry=lambda exc, delay: LOG.debug(
                        'Retrying in %.1fs: %s', delay, exc))
    except (TRANSIENT + (placement_client.PlacementError,
                         rules.InvalidRule)) as exc:
        print(f'cyborg-agent: error: {exc}', file=sys.stderr)
        return 1
    return 0


def _run_forever(agent: Agent, interval: int) -> int:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    backoff = retry.Backoff(base=1.0, cap=max(interval, 5))
    LOG.info('Publishing to Placement under %s every %ds',
             agent.sync.root_name, interval)
    while not stop.is_set():
        try:
            agent.cycle()
        except rules.InvalidRule as exc:
            print(f'cyborg-agent: error: {exc}', file=sys.stderr)
            return 2
        except (TRANSIENT + (placement_client.PlacementError,)) as exc:
            delay = backoff.next_delay()
            LOG.warning('Cycle failed, retrying in %.1fs: %s', delay, exc)
            stop.wait(delay)
            continue
        backoff.reset()
        stop.wait(interval)
    return 0


def run(conf: cfg.ConfigOpts, once: bool) -> int:
    """Run one cycle (``once``) or cycles until SIGTERM; the exit status."""
    try:
        agent = Agent(conf)
    except rules.InvalidRule as exc:  # [agent] host_attach_rule
        print(f'cyborg-agent: error: {exc}', file=sys.stderr)
        return 2
    if once:
        return _run_once(agent)
    return _run_forever(agent, conf.agent.report_interval)
