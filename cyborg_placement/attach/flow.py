"""Attach and detach as claim-then-action, and their recovery after a crash.

The order makes every step repeatable: the ``attaching`` record (with its
consumer) is written before the claim, so a crash after the claim leaves a
record that :func:`recover` finishes (the claim is in Placement) or rolls
back (it is not). No database transaction is open during a Placement call.
"""
import dataclasses
import uuid as uuid_lib

from oslo_config import cfg

from cyborg_placement import crash_points
from cyborg_placement.attach import claims
from cyborg_placement.attach import exceptions
from cyborg_placement.db import attachments
from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import models
from cyborg_placement.placement import client as placement_client


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


def instance_target(services: Services, accelerator: models.Accelerator,
                    instance_uuid: str, context) -> Target:
    """The instance's consumer; its project decides who may attach."""
    _check_claimable(accelerator)
    consumer = claims.read(services.placement, instance_uuid)
    pool = accelerator.pool_provider_uuid
    if consumer.allocations and pool not in consumer.allocations:
        # On this host: anywhere in the pool's tree (the compute node, a
        # NUMA child, another pool), as Nova's nested allocations may be.
        if not claims.host_tree(services.placement, pool) & set(
                consumer.allocations):
            raise exceptions.WrongHost(
                f'Instance {instance_uuid} has no allocation on the host of '
                f'accelerator {accelerator.uuid} ({accelerator.host}).')
    return Target(
        consumer_uuid=instance_uuid, instance_uuid=instance_uuid,
        project_id=(consumer.project_id or context.project_id
                    or services.conf.api.default_project_id),
        user_id=(consumer.user_id or context.user_id
                 or services.conf.api.default_user_id),
        consumer_type=claims.INSTANCE,
        held_units=consumer.units(accelerator.pool_provider_uuid,
                                  accelerator.resource_class))


def host_target(services: Services, accelerator: models.Accelerator,
                host: str, context, driver: str | None = None) -> Target:
    """A host attach claims for a consumer of its own; ``driver`` is the
    host driver the request names (None: the agent's rules decide)."""
    _check_claimable(accelerator)
    return Target(
        consumer_uuid=str(uuid_lib.uuid4()), host=host, driver=driver,
        project_id=context.project_id or services.conf.api.default_project_id,
        user_id=context.user_id or services.conf.api.default_user_id,
        consumer_type=claims.HOST_CONSUMER, held_units=0)


def attach(services: Services, accelerator: models.Accelerator,
           target: Target) -> models.Attachment:
    """Record, claim, confirm; the record alone decides the one winner."""
    others = attachments.api_claims(services.db, target.consumer_uuid,
                                    accelerator.pool_provider_uuid)
    record = attachments.begin_attach(
        services.db, accelerator, consumer_uuid=target.consumer_uuid,
        instance_uuid=target.instance_uuid, host=target.host,
        project_id=target.project_id, user_id=target.user_id,
        base_units=max(0, target.held_units - others), driver=target.driver)
    crash_points.reached('after_record')
    try:
        claims.claim(services.placement, target.consumer_uuid,
                     accelerator.pool_provider_uuid,
                     accelerator.resource_class,
                     project_id=target.project_id, user_id=target.user_id,
                     consumer_type=target.consumer_type,
                     retries=services.retries)
    except placement_client.PlacementError as exc:
        attachments.finish(services.db, record, models.ATTACH_FAILED,
                           f'Placement refused the claim: {exc.detail}')
        raise _placement_refused(exc) from None
    except exceptions.Contended as exc:
        attachments.finish(services.db, record, models.ATTACH_FAILED, str(exc))
        raise
    crash_points.reached('after_claim')
    claimed = attachments.mark_claimed(services.db, record)
    if claimed is None:
        _release(services, record)
        raise exceptions.Contended(
            f'Attachment {record.uuid} was rolled back while it was being '
            'claimed; try again.')
    return claimed


def bind(services: Services, accelerator: models.Accelerator,
         target: Target) -> models.Attachment:
    """Record that the instance's own allocation holds this unit."""
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


def _keep(services: Services, record: models.Attachment) -> int:
    """Units of the consumer's pool allocation that are not this claim:
    what it held before the API's claims (Nova's) plus the other claims."""
    return record.base_units + attachments.api_claims(
        services.db, record.consumer_uuid,
        record.accelerator.pool_provider_uuid, exclude_id=record.id)


def _release(services: Services, record: models.Attachment) -> None:
    accelerator = record.accelerator
    claims.release(services.placement, record.consumer_uuid,
                   accelerator.pool_provider_uuid, accelerator.resource_class,
                   keep=_keep(services, record), retries=services.retries)


def report_state(services: Services, record: models.Attachment, state: str,
                 reason: str | None) -> models.Attachment:
    """The host reconciler's report; a final state releases the claim first.

    Releasing first keeps the unit from leaking if we crash in between: the
    reconciler reports again, and the release then finds nothing to take.
    """
    if not attachments.check_transition(record, state):
        return record
    if state in models.FINAL_STATES and record.api_claim and record.claimed:
        _release(services, record)
    done = attachments.finish(services.db, record, state, reason)
    if done is None:
        raise exceptions.StateChanged(
            f'Attachment {record.uuid} changed meanwhile; read it again.')
    return done


def recover(services: Services, record: models.Attachment
            ) -> models.Attachment | None:
    """Finish an interrupted attach whose claim is in Placement, else undo it.

    Returns the finished record, or None when it was rolled back.
    """
    accelerator = record.accelerator
    consumer = claims.read(services.placement, record.consumer_uuid)
    held = consumer.units(accelerator.pool_provider_uuid,
                          accelerator.resource_class)
    if held > _keep(services, record):
        claimed = attachments.mark_claimed(services.db, record)
        if claimed is not None:
            return claimed
    attachments.finish(
        services.db, record, models.ATTACH_FAILED,
        'The attach was interrupted before its claim in Placement was made; '
        'it was rolled back. Attach again.')
    return None


def recover_host(services: Services, host: str) -> None:
    for record in attachments.unclaimed(
            services.db, host, services.conf.api.attach_recovery_seconds):
        recover(services, record)


def detach(services: Services, record: models.Attachment) -> None:
    """Ask the host to detach; the claim goes when it reports ``detached``."""
    if not record.api_claim:
        raise exceptions.ForeignAllocation(
            f'Accelerator {record.accelerator.uuid} is held by the own '
            f'allocation of instance {record.instance_uuid} (made by Nova, '
            'not by this API); resize or delete the instance instead.')
    if not record.claimed:
        record = recover(services, record)
        if record is None:
            return
    if record.state != models.DETACHING:
        if attachments.request_detach(services.db, record) is None:
            raise exceptions.StateChanged(
                f'Attachment {record.uuid} changed meanwhile; try again.')
