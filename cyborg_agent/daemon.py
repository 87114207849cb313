"""The agent daemon: publication to Placement, and the attachment reconciler.

``run`` is what ``cyborg-agent`` calls. Two loops run side by side, each on
its own cadence and with its own back-off: publication (discovery, the
Placement sync, the device report) every ``[agent] report_interval``, and
reconcile passes every ``[agent] reconcile_interval``, so an attach request
does not wait for the next publication. Neither gives up: while Placement
(or the compute-node provider, or the API) is away a loop backs off with
jitter and tries again (after the ``Retry-After`` a busy Placement may give),
and the other keeps its pace. Each loop's first run waits a random part of
its interval (``[agent] periodic_fuzzy_delay``), so a fleet started at once
spreads its cycles over the interval instead of stampeding Placement.
``--once`` is for scripts: no start delay, one publication and one reconcile
pass, retried for a few seconds only, then a failure is one line on stderr.
"""
import dataclasses
import signal
import sys
import threading
import typing

from oslo_config import cfg
from oslo_log import log as logging

from cyborg_agent import api_client
from cyborg_agent import attachment_api
from cyborg_agent import discovery
from cyborg_agent import health
from cyborg_agent import journal
from cyborg_agent import reconciler
from cyborg_agent import report
from cyborg_agent import retry
from cyborg_agent import saved_state
from cyborg_agent.discovery import inventory
from cyborg_agent.discovery import rules
from cyborg_agent.discovery import vgpu
from cyborg_agent.publish import sync as placement_sync
from cyborg_placement.placement import client as placement_client
from cyborg_placement.placement import hostname
from cyborg_placement.vocabulary import Unit

if typing.TYPE_CHECKING:
    from cyborg_agent import wakeup

LOG = logging.getLogger(__name__)

#: How long ``--once`` keeps retrying an unreachable Placement.
ONCE_RETRY_SECONDS = 5.0

#: Failures that go away by themselves: retried, never fatal to the daemon.
TRANSIENT = (placement_client.PlacementUnreachable,
             placement_sync.RootProviderMissing,
             placement_client.Conflict,
             # The accelerator API's side: device report and attachments.
             api_client.ApiUnreachable,
             api_client.ApiRefused,
             reconciler.ReconcileIncomplete)


class Agent:
    """One host's publication and reconciler, and the state they keep."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        root_name = hostname.root_provider_name(conf)
        self.sync = placement_sync.ProviderSync(
            placement_client.PlacementClient.from_conf(conf), root_name,
            manage_root=conf.agent.manage_root_provider,
            pool_by_numa=conf.agent.pool_by_numa,
            saved=_state_file(conf, 'placement', root_name))
        self._counted = self.sync.client.counts.copy()
        #: Set when a vGPU was made or deleted on this host (by the
        #: reconciler, or cast by the driver's ``vgpu`` command): the
        #: publication runs at once, not at its next interval.
        self.publish_now = threading.Event()
        self.api = None
        self.reports = None
        self.reconciler = None
        if api_client.is_configured(conf):
            self.api = api_client.make_adapter(conf)
            self.reports = report.ReportSender(
                self.api, root_name, conf.agent.unchanged_report_interval,
                _state_file(conf, 'report', root_name))
            # A session of its own: the reconciler runs in another thread.
            self.reconciler = reconciler.Reconciler.from_conf(
                conf, api_client.make_adapter(conf), self.sync.root_name,
                vgpu_changed=self.publish_now.set)
        # Saved whatever else is configured (publish-only hosts too): a
        # counter that grows between two --once runs is growth only to a
        # tracker that remembers the first.
        self.health = health.Tracker(
            conf.agent.health_recovery_cycles,
            saved_state.StateFile(conf.agent.state_dir,
                                  saved_state.file_name('health', root_name)))
        self._held_unhealthy: set[str] = set()
        #: vGPU type names the driver listed, kept across restarts.
        self.vgpu_names = vgpu.TypeNames(saved_state.StateFile(
            conf.agent.state_dir,
            saved_state.file_name('vgpu-types', root_name)))
        #: The RPC server of wake-ups, when the daemon runs one.
        self.wakeups: wakeup.WakeupServer | None = None

    def discover(self) -> list[Unit]:
        """This host's units, with their health judged by this cycle."""
        devices = discovery.discover_devices(self.conf, enrich=False,
                                             vgpu_names=self.vgpu_names)
        self.health.update(health.observe(
            devices, discovery.plugin_problems(devices, self.conf)))
        return self.health.apply(inventory.units_of(devices))

    def cycle(self) -> None:
        self.publish(self.discover())

    def _host_units(self) -> dict:
        """Disabled and held units, as the reconciler's feed last said;
        read here when it has not said yet (a fresh agent), with the
        digest of the report the API holds.

        An API that cannot say does not stop publication: until it can,
        no unit counts as disabled (the API itself still refuses to give
        a disabled unit out). The device report that follows fails the
        cycle with the API's error, so that is what is logged.
        """
        if self.reconciler is None:
            return {}
        feed = self.reconciler.api
        if feed.host_units is not None:
            return feed.host_units
        try:
            # On the publication's own session; kept where the reconcile
            # pass keeps what it reads, until its first pass replaces it.
            first = attachment_api.AttachmentApi(self.api)
            feed.host_units = first.units(self.sync.root_name)
            feed.report_digest = first.report_digest
            return feed.host_units
        except (api_client.ApiUnreachable, api_client.ApiRefused) as exc:
            LOG.debug('Disabled units unknown, published as enabled '
                      'until the accelerator API answers: %s', exc)
            return {}

    def _warn_held_unhealthy(self, units: list[Unit], held: frozenset[str]
                             ) -> None:
        now = {u.address for u in units if not u.healthy and u.address in held}
        for unit in units:
            if unit.address in now - self._held_unhealthy:
                LOG.warning('Unit %s turned unhealthy while held (%s): its '
                            'holder keeps it; migrate the instance or detach '
                            'it', unit.address, unit.health_reason)
        self._held_unhealthy = now

    def publish(self, units: list[Unit]) -> None:
        """Placement first (with unhealthy and disabled free units
        reserved), then the device report, whose pools must exist."""
        known = self._host_units()
        disabled = set(known.get('disabled', ()))
        held = frozenset(known.get('held', ()))
        units = [dataclasses.replace(u, disabled=u.address in disabled)
                 for u in units]
        self._warn_held_unhealthy(units, held)
        published = self.sync.sync(units, held)
        if self.api is not None:
            # After publication, so the pools the report names exist. Sent
            # also when the feed says the API holds another report.
            feed = self.reconciler.api
            if self.reports.send(report.build_report(units, published),
                                 feed.report_digest):
                feed.report_digest = self.reports.digest
        self._cycle_done(len(units), len(published))

    def _cycle_done(self, units: int, pools: int) -> None:
        """Say at DEBUG what the cycle cost: Placement requests since the
        last cycle done (failed tries included), and the report's fate."""
        counts = self.sync.client.counts
        spent, self._counted = counts - self._counted, counts.copy()
        if self.reports is None:
            reported = 'not configured'
        else:
            reported = 'sent' if self.reports.sent else 'unchanged, not sent'
        LOG.debug('Cycle done: %d unit(s) in %d pool(s); Placement: %d '
                  'read(s), %d write(s); device report: %s', units, pools,
                  spent['GET'], sum(spent.values()) - spent['GET'], reported)

    def reconcile(self) -> None:
        if self.reconciler is not None:
            self.reconciler.run_pass()


def _state_file(conf: cfg.ConfigOpts, kind: str, root_name: str
                ) -> saved_state.StateFile | None:
    if not conf.agent.save_published_state:
        return None
    return saved_state.StateFile(conf.agent.state_dir,
                                 saved_state.file_name(kind, root_name))


def _run_once(agent: Agent) -> int:
    """One discovery, publication and reconcile pass, retried for a few
    seconds at most."""
    def publish_and_reconcile() -> None:
        agent.publish(units)
        agent.reconcile()

    try:
        units = agent.discover()
        retry.until(ONCE_RETRY_SECONDS, retry.Backoff(base=0.5, cap=2.0),
                    publish_and_reconcile, TRANSIENT,
                    on_retry=lambda exc, delay: LOG.debug(
                        'Retrying in %.1fs: %s', delay, exc))
    except (TRANSIENT + (placement_client.PlacementError,
                         rules.InvalidRule)) as exc:
        print(f'cyborg-agent: error: {exc}', file=sys.stderr)
        return 1
    return 0


class _Stop:
    """Ends the daemon's loops: their waits, woken or not, end at once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.waits: list[threading.Event] = []

    def is_set(self) -> bool:
        return self.event.is_set()

    def set(self) -> None:
        self.event.set()
        for wait in self.waits:
            wait.set()

    def wait(self, seconds: float) -> None:
        self.event.wait(seconds)


class _Loop:
    """One periodic task of the daemon, with a back-off of its own.

    A failure backs off this loop only; a bad rule or an unexpected error
    ends the daemon (``stop`` is set for the other loop too) with
    ``status``. With ``woken``, a wake-up ends the wait between two runs
    (never a back-off); one that comes during a run makes another run.
    """

    def __init__(self, failed: str, action, interval: int, stop: _Stop,
                 first_delay: float = 0.0,
                 woken: threading.Event | None = None) -> None:
        self.failed = failed
        self.action = action
        self.interval = interval
        self.stop = stop
        self.first_delay = first_delay
        self.woken = woken
        if woken is not None:
            stop.waits.append(woken)
        self.status = 0

    def run(self) -> None:
        try:
            self._repeat()
        except rules.InvalidRule as exc:
            print(f'cyborg-agent: error: {exc}', file=sys.stderr)
            self.status = 2
        except Exception:
            LOG.exception('%s: giving up', self.failed)
            self.status = 1
        finally:
            self.stop.set()

    def _repeat(self) -> None:
        backoff = retry.Backoff(base=1.0, cap=max(self.interval, 5))
        self.stop.wait(self.first_delay)
        while not self.stop.is_set():
            try:
                self.action()
            except (TRANSIENT + (placement_client.PlacementError,)) as exc:
                delay = backoff.next_delay(retry.asked_delay(exc))
                LOG.warning('%s, retrying in %.1fs: %s', self.failed, delay,
                            exc)
                self.stop.wait(delay)
                continue
            backoff.reset()
            self._pause()

    def _pause(self) -> None:
        if self.woken is None:
            self.stop.wait(self.interval)
            return
        if self.woken.wait(self.interval) and not self.stop.is_set():
            LOG.debug('Woken up: running at once')
        self.woken.clear()


def _reconcile_loop(agent: Agent, stop: _Stop) -> _Loop:
    """Woken over the message bus with ``[DEFAULT] transport_url``, and
    then polling only as a safety net; else polling alone."""
    # Imported here: oslo.messaging imports eventlet (through oslo.service),
    # a third of the agent's start-up, which a ``--once`` cycle never needs.
    from cyborg_agent import wakeup
    from cyborg_placement import rpc
    conf = agent.conf
    woken = None
    cadence = conf.agent.reconcile_interval
    if rpc.configured(conf):
        woken = threading.Event()
        cadence = conf.agent.woken_reconcile_interval
        agent.wakeups = wakeup.WakeupServer(conf, agent.sync.root_name, woken,
                                            agent.publish_now)
        agent.wakeups.start()
    first = retry.start_delay(conf.agent.periodic_fuzzy_delay, cadence)
    LOG.info('Reconciling attachments every %ds%s, first in %.1fs', cadence,
             ' and when woken up' if woken else '', first)
    return _Loop('Reconcile pass failed', agent.reconcile, cadence, stop,
                 first, woken)


def _run_forever(agent: Agent) -> int:
    stop = _Stop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    fuzzy = agent.conf.agent.periodic_fuzzy_delay
    interval = agent.conf.agent.report_interval
    first = retry.start_delay(fuzzy, interval)
    LOG.info('Publishing to Placement under %s every %ds, first in %.1fs',
             agent.sync.root_name, interval, first)
    loops = [_Loop('Cycle failed', agent.cycle, interval, stop, first,
                   agent.publish_now)]
    threads = []
    if agent.reconciler is not None:
        loops.append(_reconcile_loop(agent, stop))
        threads.append(threading.Thread(target=loops[-1].run,
                                        name='reconciler'))
    for thread in threads:
        thread.start()
    loops[0].run()  # here: signals reach the main thread only
    for thread in threads:
        thread.join()
    if agent.wakeups is not None:
        agent.wakeups.stop()
    return max(loop.status for loop in loops)


def run(conf: cfg.ConfigOpts, once: bool) -> int:
    """Run once (``once``) or until SIGTERM; the exit status."""
    try:
        agent = Agent(conf)
    except (rules.InvalidRule,  # [agent] host_attach_rule
            journal.StateDirUnusable) as exc:
        print(f'cyborg-agent: error: {exc}', file=sys.stderr)
        return 2
    if once:
        return _run_once(agent)
    return _run_forever(agent)
