"""Bindings: which units of a pool an instance's own (Nova's) allocation holds.

Nova schedules an instance onto an accelerator pool: its allocation holds N
units of the pool's resource class, and Placement cannot say which. A binding
records which concrete unit; Nova's driver puts the bound units into the
guest's XML. The allocation is the claim, so nothing here writes to
Placement: a binding is an attachment without an API claim, written
``attached`` and not ``claimed`` (:func:`attachments.begin_binding`) so the
host's reconciler, fed claimed records only, never acts on it, and released
by becoming final. Which unit is whose is decided by the database: the
unique index on the attachment that holds an accelerator, as for attach.

:func:`bind` follows the allocation on one host, all or nothing;
:func:`repair_host` (each reconcile pass of the host's agent), and every
bind in the pool, release bindings whose unit no consumer holds in
Placement, by the rule docs/api.md states.
"""
import dataclasses

from oslo_log import log as logging

from cyborg_placement.attach import claims
from cyborg_placement.attach import exceptions
from cyborg_placement.attach import flow
from cyborg_placement.db import attachments
from cyborg_placement.db import exceptions as db_exceptions
from cyborg_placement.db import models
from cyborg_placement.placement import client as placement_client

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class _Pool:
    """One pool as the records and then Placement had it.

    The records are read first: a binding read here was made after its
    instance's allocation, so that allocation is in what Placement says.
    """

    uuid: str
    resource_class: str
    #: Active bindings on the pool.
    bindings: list[models.Attachment]
    #: Active records (API claims and bindings) on the pool, by consumer.
    records: dict[str, int]
    #: Units of the resource class on the pool, by consumer, in Placement.
    held: dict[str, int]
    #: Placement does not have the pool: nothing is held there.
    missing: bool

    @classmethod
    def read(cls, services: flow.Services, reads: claims.PoolReads,
             uuid: str, resource_class: str, only_if_bound: bool = False
             ) -> '_Pool | None':
        """None, with ``only_if_bound``, for a pool without bindings (and
        then Placement is not asked)."""
        bindings, records = attachments.pool_holders(services.db, uuid)
        if only_if_bound and not bindings:
            return None
        held = reads.held(uuid, resource_class)
        return cls(uuid, resource_class, bindings, records, held,
                   uuid in reads.missing)

    def bound(self, instance_uuid: str) -> list[models.Attachment]:
        return [b for b in self.bindings if b.consumer_uuid == instance_uuid]

    def own(self, instance_uuid: str) -> int:
        """The instance's own units: what it holds less the API's claims."""
        api_claims = (self.records.get(instance_uuid, 0)
                      - len(self.bound(instance_uuid)))
        return max(0, self.held.get(instance_uuid, 0) - api_claims)

    def spare(self, besides: str | None) -> int:
        """Units that consumers other than ``besides`` hold beyond their
        records: a migration's source units (held by the migration's
        consumer, bound to the instance), or an instance not bound yet."""
        return sum(max(0, units - self.records.get(consumer, 0))
                   for consumer, units in self.held.items()
                   if consumer != besides)


def _release_order(records: list[models.Attachment]
                   ) -> list[models.Attachment]:
    """Which bindings go first: on missing units, made for a Nova driver
    (not claimed: no host reconciler has them), the newest."""
    return sorted(records, key=lambda r: (
        r.accelerator.state != models.MISSING, r.claimed, -r.id))


def _stale(services: flow.Services, pool: _Pool, besides: str | None
           ) -> list[models.Attachment]:
    """Bindings of instances other than ``besides`` whose unit nobody holds.

    An instance bound beyond its own units is either gone (no allocation
    anywhere: all of its bindings go) or its units moved; those extra
    bindings go as far as no spare units in the pool explain them.
    """
    excess = {}
    for instance_uuid in sorted({b.consumer_uuid for b in pool.bindings}
                                - {besides}):
        bound = pool.bound(instance_uuid)
        extra = len(bound) - pool.own(instance_uuid)
        if extra > 0:
            excess[instance_uuid] = _release_order(bound)[:extra]
    stale = []
    for instance_uuid in list(excess):
        if not pool.held.get(instance_uuid) and not claims.read(
                services.placement, instance_uuid).allocations:
            stale += excess.pop(instance_uuid)
    moved = sorted((r for records in excess.values() for r in records),
                   key=lambda r: r.id)
    return stale + moved[:max(0, len(moved) - pool.spare(besides))]


def release_records(services: flow.Services,
                    records: list[models.Attachment], reason: str) -> None:
    """End these bindings; one changed meanwhile is left as it is now."""
    for record in records:
        if attachments.release_binding(services.db, record, reason) is None:
            LOG.info('Binding %s changed meanwhile; left as it is now.',
                     record.uuid)


def _release_stale(services: flow.Services,
                   records: list[models.Attachment]) -> None:
    for record in records:
        reason = (f'Released: no consumer in Placement holds this unit of '
                  f'pool {record.accelerator.pool_provider_uuid} for '
                  f'instance {record.instance_uuid} any more (deleted, '
                  'resized or moved).')
        LOG.warning('Binding %s of accelerator %s: %s', record.uuid,
                    record.accelerator.uuid, reason)
        release_records(services, [record], reason)


@dataclasses.dataclass
class _Plan:
    """What a bind does on one pool, decided before anything is written."""

    pool: _Pool
    wanted: int
    keep: list[models.Attachment]
    drop: list[models.Attachment]
    stale: list[models.Attachment]
    free: list[models.Accelerator]

    @property
    def needed(self) -> int:
        return self.wanted - len(self.keep)

    def short_message(self, instance_uuid: str, host: str) -> str:
        return (f'Pool {self.pool.uuid} ({self.pool.resource_class}) on host '
                f'{host} has {len(self.keep) + len(self.free)} unit(s) to '
                f'bind for instance {instance_uuid}, whose allocation holds '
                f'{self.wanted} there: units are missing from the host, '
                'unhealthy, disabled or held by other attachments.')


def vgpu_order(held: list[tuple[str, str]],
               free: list[models.Accelerator]) -> list[models.Accelerator]:
    """The free units a bind may take, vGPU units in the order the host
    can make them: a GPU holding vGPUs of another type makes none of this
    one (one type per GPU, as NVIDIA's time-sliced and MIG-backed vGPUs
    are), and of the others the GPU holding fewest of this type goes
    first, so no GPU is asked past its cap while another has room (the
    cap is the agent's; it reserves in Placement what no GPU can hold).
    Whole devices keep their order."""
    def rank(unit: models.Accelerator) -> tuple[int, int]:
        if unit.vgpu_type is None:
            return (0, 0)
        on_gpu = [kind for parent, kind in held
                  if parent == unit.parent_address]
        other = any(kind != unit.vgpu_type for kind in on_gpu)
        return (int(other), len(on_gpu))
    return [unit for unit in sorted(free, key=rank)
            if unit.vgpu_type is None or not rank(unit)[0]]


def _plan(services: flow.Services, reads: claims.PoolReads,
          instance_uuid: str, host: str, pool_uuid: str, resource_class: str
          ) -> _Plan:
    pool = _Pool.read(services, reads, pool_uuid, resource_class)
    wanted = pool.own(instance_uuid)
    mine = pool.bound(instance_uuid)
    present = [b for b in mine if b.accelerator.state != models.MISSING]
    keep = present[:wanted]
    stale = _stale(services, pool, instance_uuid)
    free = vgpu_order(attachments.vgpus_held(services.db, host),
                      attachments.free_units(services.db, pool_uuid, host)
                      + [r.accelerator for r in stale
                         if r.accelerator.schedulable])
    return _Plan(pool, wanted, keep, [b for b in mine if b not in keep],
                 stale, free)


def _bind_units(services: flow.Services, plan: _Plan, consumer:
                claims.Consumer, context) -> list[models.Attachment]:
    """Bind ``plan.needed`` free units; a unit taken meanwhile is skipped."""
    made = []
    units = iter(plan.free)
    while len(made) < plan.needed:
        unit = next(units, None)
        if unit is None:
            break
        try:
            made.append(attachments.begin_binding(
                services.db, unit, instance_uuid=consumer.uuid,
                project_id=(consumer.project_id or context.project_id
                            or services.conf.api.default_project_id),
                user_id=(consumer.user_id or context.user_id
                         or services.conf.api.default_user_id)))
        except db_exceptions.AlreadyAttached:
            continue
    return made


def bind(services: flow.Services, instance_uuid: str, host: str, context,
         asked: frozenset[str] = frozenset()) -> list[models.Attachment]:
    """Bind, on each of the host's pools, as many units as the instance's
    own allocation holds there; release the bindings beyond that.

    All or nothing: a pool without enough units to bind (present, held by
    nobody), or one of the pools ``asked`` (by the caller, for units) that
    Placement does not have, refuses the call before anything is written;
    a unit another bind takes meanwhile is replaced by the next free one,
    and if none is left the units this call bound are released again. A
    pool Placement does not have otherwise holds nothing: its bindings go.
    Returns the instance's bindings on the host.
    """
    reads = claims.PoolReads(services.placement)
    plans = [_plan(services, reads, instance_uuid, host, pool,
                   resource_class)
             for pool, resource_class in attachments.pools_of_host(
                 services.db, host)]
    gone = sorted(reads.missing & asked)
    if gone:
        raise exceptions.PoolNotInPlacement(gone[0])
    short = [plan for plan in plans if plan.needed > len(plan.free)]
    if short:
        raise exceptions.NotEnoughUnits(' '.join(
            plan.short_message(instance_uuid, host) for plan in short)
            + ' Nothing was bound.')
    consumer = claims.Consumer(instance_uuid, {})
    if any(plan.needed for plan in plans):
        consumer = claims.read(services.placement, instance_uuid)
    made = []
    for plan in plans:
        _release_stale(services, plan.stale)
        release_records(services, plan.drop, (
            f'Released: instance {instance_uuid} holds fewer units of pool '
            f'{plan.pool.uuid} in Placement, or the unit went missing.'))
        bound = _bind_units(services, plan, consumer, context)
        made += bound
        if len(bound) < plan.needed:
            release_records(services, made, 'Released: the bind that made '
                            'it was refused (not enough units).')
            raise exceptions.NotEnoughUnits(
                f'{plan.short_message(instance_uuid, host)} (other binds '
                'took the free units meanwhile) Nothing was bound.')
    return attachments.bindings_of(services.db, instance_uuid, host)


def release(services: flow.Services, instance_uuid: str,
            host: str | None = None) -> None:
    """Release the instance's bindings on ``host`` (None: on every host)."""
    where = f'on host {host}' if host is not None else 'on every host'
    release_records(services, attachments.bindings_of(
        services.db, instance_uuid, host),
        f'Released: the bindings of instance {instance_uuid} {where} '
        'were deleted.')


def _bound_pools(services: flow.Services, reads: claims.PoolReads,
                 host: str) -> list[_Pool] | None:
    """The host's pools with bindings, as the records and then Placement
    have them; None while Placement is away."""
    pools = []
    for pool_uuid, resource_class in attachments.pools_of_host(services.db,
                                                               host):
        try:
            pool = _Pool.read(services, reads, pool_uuid, resource_class,
                              only_if_bound=True)
        except placement_client.PlacementError as exc:
            LOG.warning('Could not check the bindings of pool %s: %s',
                        pool_uuid, exc)
            continue
        except placement_client.PlacementUnreachable as exc:
            LOG.warning('Bindings of host %s wait for Placement: %s', host,
                        exc)
            return None
        if pool is not None:
            pools.append(pool)
    return pools


def repair_host(services: flow.Services, host: str) -> None:
    """What every feed read of the host repairs: attaches API crashes left
    unclaimed, claims no record explains (the sweep), and bindings whose
    unit nobody holds in Placement any more.

    Each pool is read from Placement once, for the sweep and the bindings
    both (:class:`claims.PoolReads`), after the records of its bindings
    (the order :class:`_Pool` needs). The sweep comes in between: it sets
    consumers to what their API claims want, and the units it takes away
    only make the read count more units (own or spare) than are left, so
    a binding may stay one more feed read, never go too early; the units
    it gives back to a host consumer are no unit's but its records'. Best
    effort: the host's feed is served while Placement is away, and the next
    feed read repairs again.
    """
    if not flow.recover_interrupted(services, host):
        return
    reads = claims.PoolReads(services.placement)
    pools = _bound_pools(services, reads, host)
    if pools is None:
        return
    flow.sweep(services, host, reads)
    for pool in pools:
        _release_stale(services, _stale(services, pool, None))
