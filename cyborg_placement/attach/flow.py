"""Attach and detach as claim-then-action, and their recovery after a crash.

Placement is a second store, written without a transaction. The records
decide; Placement follows them: every write sets the units a consumer holds
on a pool to what its records want (its own units plus one per active API
claim, :meth:`attachments.PoolClaims.wanted`), reading the records after
the consumer, so any step can be repeated and the last write of racing
steps is right. The order of the steps makes every crash repairable:

- the ``attaching`` record (with its consumer) is written before the claim;
  an attach interrupted before its claim is confirmed is finished by
  :func:`recover` (the claim is in Placement) or rolled back (it is not);
- a release runs after the record is final and is confirmed by
  ``released``; one interrupted before that is run again;
- :func:`sweep` sets every consumer of the host's pools that has API claim
  records to what they want, which also removes claims no record explains
  (a rolled-back attach whose late claim landed after its release).

No database transaction is open during a Placement call. docs/api.md lists
the invariants.
"""
import dataclasses
import uuid as uuid_lib

from oslo_config import cfg
from oslo_log import log as logging

from cyborg_placement import crash_points
from cyborg_placement.attach import claims
from cyborg_placement.attach import exceptions
from cyborg_placement.db import attachments
from cyborg_placement.db import changes
from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import models
from cyborg_placement.placement import client as placement_client

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Services:
    db: db_engine.Database
    placement: placement_client.PlacementClient
    conf: cfg.ConfigOpts

    @property
    def retries(self) -> int:
        return self.conf.api.placement_conflict_retries


@dataclasses.dataclass
class Target:
    """Who an attach is for, once its consumer has been looked up."""

    consumer_uuid: str
    project_id: str
    user_id: str
    consumer_type: str
    held_units: int
    instance_uuid: str | None = None
    host: str | None = None
    driver: str | None = None
    #: The instance holds something on the accelerator's host (or nothing
    #: anywhere yet). Checked by :func:`attach` and :func:`bind`, after the
    #: caller's project is: another project learns nothing of where its
    #: instances are.
    on_host: bool = True


def _placement_refused(exc: placement_client.PlacementError
                       ) -> exceptions.AttachError:
    message = f'Placement refused the claim: {exc.detail}'
    if exc.status == 409:
        return exceptions.NoCapacity(message)
    return exceptions.PlacementRefused(message)


def _check_claimable(accelerator: models.Accelerator) -> None:
    if not accelerator.pool_provider_uuid or not accelerator.resource_class:
        raise exceptions.NoPool(
            f'Accelerator {accelerator.uuid} has no pool provider in '
            'Placement (it was not reported by a host agent).')
    if accelerator.state == models.MISSING:
        raise exceptions.Missing(
            f'Accelerator {accelerator.uuid} is missing from its host.')
    if accelerator.disabled:
        raise exceptions.Unschedulable(
            f'Accelerator {accelerator.uuid} is disabled '
            f'({accelerator.disabled_reason or "no reason given"}); choose '
            'another one, or enable it first.')
    if accelerator.health != models.HEALTHY:
        raise exceptions.Unschedulable(
            f'Accelerator {accelerator.uuid} is unhealthy '
            f'({accelerator.health_reason}); choose another one.')


def instance_target(services: Services, accelerator: models.Accelerator,
                    instance_uuid: str, context) -> Target:
    """The instance's consumer; its project decides who may attach."""
    _check_claimable(accelerator)
    consumer = claims.read(services.placement, instance_uuid)
    pool = accelerator.pool_provider_uuid
    # On this host: anywhere in the pool's tree (the compute node, a NUMA
    # child, another pool), as Nova's nested allocations may be.
    on_host = (not consumer.allocations or pool in consumer.allocations
               or bool(claims.host_tree(services.placement, pool)
                       & set(consumer.allocations)))
    return Target(
        on_host=on_host,
        consumer_uuid=instance_uuid, instance_uuid=instance_uuid,
        project_id=(consumer.project_id or context.project_id
                    or services.conf.api.default_project_id),
        user_id=(consumer.user_id or context.user_id
                 or services.conf.api.default_user_id),
        consumer_type=claims.INSTANCE,
        held_units=consumer.units(accelerator.pool_provider_uuid,
                                  accelerator.resource_class))


def _check_on_host(accelerator: models.Accelerator, target: Target) -> None:
    """The message names no host: the caller may not see hosts."""
    if not target.on_host:
        raise exceptions.WrongHost(
            f'Instance {target.instance_uuid} has no allocation on the host '
            f'of accelerator {accelerator.uuid}.')


def host_target(services: Services, accelerator: models.Accelerator,
                host: str, context, driver: str | None = None) -> Target:
    """A host attach claims for a consumer of its own; ``driver`` is the
    host driver the request names (None: the agent's rules decide)."""
    _check_claimable(accelerator)
    if accelerator.vgpu_interface:
        # Bound to a host driver, its VF would leave the vendor driver
        # that holds the vGPU.
        raise exceptions.VgpuToHost(
            f'Accelerator {accelerator.uuid} is a vGPU ('
            f'{accelerator.vgpu_profile}): it can be attached to an '
            'instance, not to its host; attach its GPU\'s units that are '
            'whole devices instead.')
    return Target(
        consumer_uuid=str(uuid_lib.uuid4()), host=host, driver=driver,
        project_id=context.project_id or services.conf.api.default_project_id,
        user_id=context.user_id or services.conf.api.default_user_id,
        consumer_type=claims.HOST_CONSUMER, held_units=0)


def _consumer_type(record: models.Attachment) -> str:
    return claims.INSTANCE if record.instance_uuid else claims.HOST_CONSUMER


def _set_units(services: Services, record: models.Attachment, *,
               grow: bool) -> int:
    """Make the record's consumer hold what its records want on the pool."""
    accelerator = record.accelerator
    pool = accelerator.pool_provider_uuid
    return claims.set_units(
        services.placement, record.consumer_uuid, pool,
        accelerator.resource_class,
        lambda: attachments.pool_claims(
            services.db, record.consumer_uuid, pool).wanted(record.base_units),
        grow=grow, project_id=record.project_id, user_id=record.user_id,
        consumer_type=_consumer_type(record), retries=services.retries)


def _release(services: Services, record: models.Attachment) -> None:
    """Take the finished record's unit back, then say so in the record."""
    _set_units(services, record, grow=False)
    attachments.mark_released(services.db, [record.id])


def _base_units(services: Services, accelerator: models.Accelerator,
                target: Target) -> int:
    """The consumer's own units of the pool (Nova's), not the API's.

    With claims of the API active on the pool, theirs; with releases owed,
    those are made first, so the count read afterwards is the consumer's.
    """
    if target.consumer_type == claims.HOST_CONSUMER:
        return 0
    pool = accelerator.pool_provider_uuid
    found = attachments.pool_claims(services.db, target.consumer_uuid, pool)
    if found.active:
        return found.base
    if not found.unreleased:
        return target.held_units
    claims.set_units(
        services.placement, target.consumer_uuid, pool,
        accelerator.resource_class,
        lambda: attachments.pool_claims(
            services.db, target.consumer_uuid, pool).wanted(found.base),
        grow=False, project_id=None, user_id=None,
        consumer_type=target.consumer_type, retries=services.retries)
    return claims.read(services.placement, target.consumer_uuid).units(
        pool, accelerator.resource_class)


def _fail(services: Services, record: models.Attachment, reason: str
          ) -> None:
    """The claim was refused; if a recovery counted it as made meanwhile,
    the release puts the count right."""
    if attachments.finish(services.db, record, models.ATTACH_FAILED,
                          reason) is not None:
        _release(services, record)


def attach(services: Services, accelerator: models.Accelerator,
           target: Target) -> models.Attachment:
    """Record, claim, confirm; the record alone decides the one winner."""
    _check_on_host(accelerator, target)
    record = attachments.begin_attach(
        services.db, accelerator, consumer_uuid=target.consumer_uuid,
        instance_uuid=target.instance_uuid, host=target.host,
        project_id=target.project_id, user_id=target.user_id,
        base_units=_base_units(services, accelerator, target),
        driver=target.driver)
    crash_points.reached('after_record')
    try:
        _set_units(services, record, grow=True)
    except placement_client.PlacementError as exc:
        _fail(services, record, f'Placement refused the claim: {exc.detail}')
        if exc.status != 409:
            # Placement answers 400 for a provider it does not have.
            claims.check_pool(services.placement,
                              accelerator.pool_provider_uuid)
        raise _placement_refused(exc) from None
    except exceptions.Contended as exc:
        _fail(services, record, str(exc))
        raise
    crash_points.reached('after_claim')
    claimed = attachments.mark_claimed(services.db, record)
    if claimed is None:
        # Rolled back meanwhile (by a recovery that found no claim yet):
        # the claim just made is no record's; take it back.
        _release(services, record)
        raise exceptions.Contended(
            f'Attachment {record.uuid} was rolled back while it was being '
            'claimed (it took longer than attach_recovery_seconds); '
            'attach again.')
    return claimed


def bind(services: Services, accelerator: models.Accelerator,
         target: Target) -> models.Attachment:
    """Record that the instance's own allocation holds this unit."""
    _check_on_host(accelerator, target)
    bound = attachments.count_active(services.db, target.consumer_uuid,
                                     accelerator.pool_provider_uuid)
    if target.held_units <= bound:
        raise exceptions.NoCapacity(
            f'Instance {target.instance_uuid} holds {target.held_units} '
            f'unit(s) of pool {accelerator.pool_provider_uuid}, all bound.')
    return attachments.begin_attach(
        services.db, accelerator, consumer_uuid=target.consumer_uuid,
        instance_uuid=target.instance_uuid, project_id=target.project_id,
        user_id=target.user_id, api_claim=False)


def report_state(services: Services, record: models.Attachment, state: str,
                 reason: str | None) -> models.Attachment:
    """The host reconciler's report; a final state then releases the claim.

    The state is written first: from then on no step of ours wants the
    unit, so the release (and any repeat of it after a crash, by the
    reconciler's repeated report or by :func:`sweep`) takes it for good.
    """
    if not attachments.check_transition(record, state):
        if state in models.FINAL_STATES and record.api_claim \
                and not record.released:
            _release(services, record)
        return record
    done = attachments.finish(services.db, record, state, reason)
    if done is None:
        raise exceptions.StateChanged(
            f'Attachment {record.uuid} changed meanwhile; read it again.')
    if state in models.FINAL_STATES and done.api_claim:
        _release(services, done)
    return done


def recover(services: Services, record: models.Attachment
            ) -> models.Attachment | None:
    """Finish an interrupted attach whose claim is in Placement, else undo it.

    Returns the record as it is now if it still holds the accelerator (it
    was finished, here or meanwhile), or None when it was rolled back.
    """
    accelerator = record.accelerator
    pool, resource_class = (accelerator.pool_provider_uuid,
                            accelerator.resource_class)
    held = claims.read(services.placement, record.consumer_uuid).units(
        pool, resource_class)
    wanted = attachments.pool_claims(services.db, record.consumer_uuid,
                                     pool).wanted(record.base_units)
    if held >= wanted and attachments.mark_claimed(
            services.db, record) is not None:
        return attachments.get(services.db, record.uuid)
    if attachments.roll_back(
            services.db, record,
            'The attach was interrupted before its claim in Placement was '
            'made; it was rolled back. Attach again.') is None:
        current = attachments.get(services.db, record.uuid)  # changed meanwhile
        return current if current.state in models.ACTIVE_STATES else None
    # Not marked released: the interrupted attach may still make its claim;
    # the sweep takes it back once the record has been quiet long enough.
    _set_units(services, record, grow=False)
    return None


def _interrupted(services: Services, record: models.Attachment) -> bool:
    return record.created_at <= attachments.cutoff(
        services.conf.api.attach_recovery_seconds)


def recover_interrupted(services: Services, host: str) -> bool:
    """Finish or roll back the host's attaches that API crashes left
    unclaimed; False while Placement is away.

    Best effort: the host's feed is served while Placement is away, and the
    next feed read repairs again.
    """
    try:
        for record in attachments.unclaimed(
                services.db, host, services.conf.api.attach_recovery_seconds):
            recover(services, record)
    except placement_client.PlacementUnreachable as exc:
        LOG.warning('Repair of host %s waits for Placement: %s', host, exc)
        return False
    return True


def _settled(records: list[models.Attachment], quiet_since) -> bool:
    """No step of ours is under way for these records: none waits for its
    claim and none changed since ``quiet_since``."""
    return not any(
        (r.state == models.ATTACHING and not r.claimed)
        or (r.updated_at or r.created_at) > quiet_since for r in records)


def sweep(services: Services, host: str, reads: claims.PoolReads) -> None:
    """Set each consumer of the host's pools that the API claimed for to
    what its records want; then its owed releases are confirmed.

    Host consumers are wholly the API's: they are set both ways (a unit no
    record explains goes, a claimed record's missing unit comes back).
    Instance consumers are only ever reduced, and only while a claim of ours
    is active or owed there, so Nova's own changes to them stay untouched.
    Consumers with a step under way are left to that step (and to the next
    sweep): records must have been quiet for ``attach_recovery_seconds``.
    """
    quiet_since = attachments.cutoff(
        services.conf.api.attach_recovery_seconds)
    for pool, resource_class in attachments.claimed_pools_of_host(
            services.db, host):
        try:
            held = reads.held(pool, resource_class)
        except (placement_client.PlacementError,
                placement_client.PlacementUnreachable) as exc:
            # Best effort: the host's feed is served without it, and the
            # next feed read sweeps again.
            LOG.warning('Could not read the consumers of pool %s: %s', pool,
                        exc)
            continue
        if pool in reads.missing:
            continue  # not (or no longer) in Placement: nothing is held there
        candidates = set(held) | attachments.open_consumers(
            services.db, pool)
        by_consumer = attachments.claims_by_consumer(services.db, pool,
                                                     candidates)
        for consumer_uuid, records in by_consumer.items():
            if not _settled(records, quiet_since):
                continue
            try:
                _sweep_consumer(services, records,
                                held.get(consumer_uuid, 0))
            except (placement_client.PlacementError,
                    exceptions.Contended) as exc:
                LOG.warning('Could not set consumer %s on pool %s to its '
                            'records: %s', consumer_uuid, pool, exc)


def _sweep_consumer(services: Services, records: list[models.Attachment],
                    held: int) -> None:
    found = attachments.summarize(records)
    is_host = all(r.instance_uuid is None for r in records)
    open_records = [r for r in records
                    if r.state in models.ACTIVE_STATES or not r.released]
    if not is_host and not open_records:
        return
    record = min(open_records or records, key=lambda r: r.base_units)
    wanted = found.wanted(record.base_units)
    if wanted != held:
        LOG.warning('Consumer %s holds %d unit(s) of pool %s, its records '
                    'want %d; setting them.', record.consumer_uuid, held,
                    record.accelerator.pool_provider_uuid, wanted)
    if wanted != held or found.unreleased:
        _set_units(services, record, grow=is_host)
    attachments.mark_released(services.db, [
        r.id for r in records
        if r.state in models.FINAL_STATES and not r.released])


def detach(services: Services, record: models.Attachment) -> None:
    """Ask the host to detach; the claim goes when it reports ``detached``.

    An attach still under way is not rolled back under its feet (its claim
    would land after the rollback): the loser of that race gets 409. A
    refusal is told to the data layer's observers (``detach.error``).
    """
    try:
        _detach(services, record)
    except exceptions.AttachError as exc:
        services.db.publish(changes.Change(
            changes.DETACH_ERROR, record.accelerator, record, fault=str(exc)))
        raise


def _detach(services: Services, record: models.Attachment) -> None:
    if not record.api_claim:
        raise exceptions.ForeignAllocation(
            f'Accelerator {record.accelerator.uuid} is held by the own '
            f'allocation of instance {record.instance_uuid} (made by Nova, '
            'not by this API); resize or delete the instance instead.')
    if record.state == models.ATTACHING and not record.claimed:
        if not _interrupted(services, record):
            raise exceptions.Contended(
                f'Accelerator {record.accelerator.uuid} is being attached '
                f'(attachment {record.uuid}); detach it once the attach '
                'has answered.')
        record = recover(services, record)
        if record is None:
            return
    if record.state == models.DETACHING:
        return
    if attachments.request_detach(services.db, record) is None:
        current = attachments.get(services.db, record.uuid)
        if current.state in (models.DETACHING, *models.FINAL_STATES):
            return  # someone else detached it meanwhile
        raise exceptions.StateChanged(
            f'Attachment {record.uuid} changed meanwhile (it is now '
            f'{current.state}); try again.')
