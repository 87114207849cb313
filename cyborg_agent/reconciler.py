"""The attachment reconciler: drives this host's attachments to their state.

Each pass asks the API what changed on this host since the last revision
it saw (0 in a fresh process: everything still active) and drives each
attachment: ``attaching`` is attached on the host, then reported
``attached`` (or ``attach_failed`` with the reason, after undoing any half
step); ``attached`` is checked; ``detaching`` is undone on the host, then
reported ``detached`` (the API then releases the claim). Every host step
is idempotent and journaled first, so a pass after a crash finishes what
the last one started. A fresh process also rolls back what the journal
holds for attachments the API no longer has.

Failures that may go away (API or libvirt unreachable, a guest that keeps
a device) leave the attachment pending: it is tried again on every pass
and the pass ends with :class:`ReconcileIncomplete`, which the daemon logs
and ``--once`` turns into its exit status.
"""
import dataclasses
import typing

from keystoneauth1 import adapter as ks_adapter
from oslo_config import cfg
from oslo_log import log as logging

from cyborg_agent.api_client import ApiRefused
from cyborg_agent.api_client import ApiUnreachable
from cyborg_agent.attach_errors import AttachFailed
from cyborg_agent.attach_errors import NotSettled
from cyborg_agent.attachment_api import AttachmentApi
from cyborg_agent.host_attach import HostBinder
from cyborg_agent.journal import Journal
from cyborg_agent.vgpus import Vgpu
from cyborg_agent.vm_attach import VmAttacher
from cyborg_placement import crash_points

LOG = logging.getLogger(__name__)

ATTACHING = 'attaching'
ATTACHED = 'attached'
DETACHING = 'detaching'
ATTACH_FAILED = 'attach_failed'
DETACHED = 'detached'

#: API answers to a report that mean "this attachment changed meanwhile":
#: its next change comes through the feed and says what to do.
_STALE = (404, 409)


class ReconcileIncomplete(Exception):
    """Some attachments could not be settled in this pass; see the log."""


@dataclasses.dataclass(frozen=True)
class Work:
    """One attachment, as the API or the journal describes it."""

    uuid: str
    address: str
    instance_uuid: str | None = None
    #: The host driver the attach request names (host attachments only).
    driver: str | None = None
    #: A vGPU unit's vGPU (VM attachments only); None: the whole device.
    vgpu: Vgpu | None = None

    @classmethod
    def from_view(cls, view: dict) -> 'Work':
        return cls(view['uuid'], view['pci_address'], view['instance_uuid'],
                   view.get('driver'), Vgpu.of(view))

    @classmethod
    def from_journal(cls, uuid: str, record: dict) -> 'Work':
        return cls(uuid, record['address'], record.get('instance_uuid'),
                   vgpu=Vgpu.of(record))


class Reconciler:
    def __init__(self, api: AttachmentApi, host: str, journal: Journal,
                 host_binder: HostBinder, vm_attacher: VmAttacher) -> None:
        self.api = api
        self.host = host
        self.journal = journal
        self.host_binder = host_binder
        self.vm_attacher = vm_attacher
        #: The feed's revision after the last pass; 0 asks for a full resync.
        self.revision = 0
        #: Attachments seen but not settled yet, by uuid (latest view).
        self.pending: dict[str, dict] = {}

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, adapter: ks_adapter.Adapter,
                  host: str,
                  vgpu_changed: typing.Callable[[], None] | None = None
                  ) -> 'Reconciler':
        """``vgpu_changed``: called when a VM attachment made or deleted
        a vGPU (the daemon publishes then)."""
        journal = Journal(conf.agent.state_dir)
        journal.check_writable()
        return cls(AttachmentApi(adapter), host, journal,
                   HostBinder.from_conf(conf, journal),
                   VmAttacher(conf.agent.libvirt_uri, conf.agent.sysfs_root,
                              journal, vgpu_changed=vgpu_changed))

    def run_pass(self) -> None:
        """Fetch the changes, settle what can be settled, say what cannot."""
        changes, revision = self.api.changes(self.host, self.revision)
        problems = []
        if self.revision == 0:
            problems += self._roll_back_orphans({v['uuid'] for v in changes})
        self.revision = 0 if problems else revision
        for view in changes:
            self.pending[view['uuid']] = view
        for uuid, view in list(self.pending.items()):
            try:
                self._drive(view)
            except (NotSettled, ApiUnreachable, ApiRefused) as exc:
                LOG.warning('Attachment %s (%s) not settled, trying again '
                            'on the next pass: %s', uuid, view['state'], exc)
                problems.append(f'{uuid}: {exc}')
                continue
            del self.pending[uuid]
        if problems:
            raise ReconcileIncomplete(
                f'{len(problems)} attachment(s) not settled: '
                + '; '.join(problems))

    def _drive(self, view: dict) -> None:
        work, state = Work.from_view(view), view['state']
        if state == ATTACHING:
            self._attach(work)
        elif state == ATTACHED:
            self._check_attached(work)
        elif state == DETACHING:
            self._detach(work)
            self._report(work, DETACHED)
        else:  # attach_failed, detached: hold nothing of it on the host
            self._undo(work)

    def _attach(self, work: Work) -> None:
        crash_points.reached('before_action')
        try:
            self._do_attach(work)
        except AttachFailed as exc:
            reason = f'On host {self.host}: {exc.reason}'
        else:
            crash_points.reached('after_action')
            self._report(work, ATTACHED)
            LOG.info('Attached %s (%s) to %s', work.address, work.uuid,
                     work.instance_uuid or f'host {self.host}')
            return
        # Outside the except block: oslo.log would append the exception,
        # saying the reason twice on the line.
        LOG.warning('Attach %s failed: %s', work.uuid, reason)
        self._undo(work)
        self._report(work, ATTACH_FAILED, reason)

    def _check_attached(self, work: Work) -> None:
        """Re-apply an attachment the API says is in place (idempotent)."""
        try:
            self._do_attach(work)
        except AttachFailed as exc:
            LOG.error('Attachment %s is attached in the API but not on the '
                      'host: %s', work.uuid, exc.reason)

    def _do_attach(self, work: Work) -> bool:
        if work.instance_uuid:
            return self.vm_attacher.attach(work.uuid, work.instance_uuid,
                                           work.address, work.vgpu)
        return self.host_binder.attach(work.uuid, work.address, work.driver)

    def _detach(self, work: Work) -> None:
        if work.instance_uuid:
            self.vm_attacher.detach(work.uuid, work.instance_uuid,
                                    work.address, work.vgpu)
        else:
            self.host_binder.detach(work.uuid, work.address)
        LOG.info('Detached %s (%s)', work.address, work.uuid)

    def _undo(self, work: Work) -> None:
        if self.journal.get(work.uuid) is not None:
            self._detach(work)

    def _roll_back_orphans(self, active: set[str]) -> list[str]:
        """Undo what the journal holds for attachments no longer active."""
        problems = []
        for uuid in self.journal.uuids():
            if uuid in active:
                continue
            record = self.journal.get(uuid)
            LOG.info('Rolling back attachment %s: the API no longer holds '
                     'it', uuid)
            try:
                self._detach(Work.from_journal(uuid, record))
            except NotSettled as exc:
                problems.append(f'{uuid}: {exc}')
        return problems

    def _report(self, work: Work, state: str, reason: str | None = None
                ) -> None:
        try:
            self.api.report(work.uuid, state, reason)
        except ApiRefused as exc:
            if exc.status not in _STALE:
                raise
            LOG.warning('The API did not take %s for attachment %s (%s); '
                        'its next change will tell', state, work.uuid,
                        exc.detail)
