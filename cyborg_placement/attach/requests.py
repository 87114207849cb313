"""Accelerator requests (ARQs), as Nova's Cyborg client makes and binds them.

A flavor's ``accel:device_profile=NAME`` makes Nova ask Placement for one
request group per profile group; after scheduling it creates one ARQ per
unit the groups ask for and binds each to the provider Placement allocated
for its group (``device_rp_uuid``: one of our pools). Binding an ARQ is the
binding of :mod:`.bindings`, the one record of which unit the instance's own
(Nova's) allocation holds: nothing here writes to Placement. The ARQ points
at that binding; the database's unique indexes give a unit to at most one
binding and a binding to at most one ARQ.

Binds are synchronous and all or nothing: the PATCH answers with the ARQs
bound, or refuses and leaves every ARQ of it as it was (Nova then aborts
the build instead of booting a guest without its device).
"""
import collections
import dataclasses

from cyborg_placement.attach import bindings
from cyborg_placement.attach import exceptions
from cyborg_placement.attach import flow
from cyborg_placement.db import accelerator_requests
from cyborg_placement.db import accelerators
from cyborg_placement.db import attachments
from cyborg_placement.db import device_profiles
from cyborg_placement.db import models

RESOURCES_PREFIX = 'resources:'


def units_per_group(groups: list[dict]) -> list[int]:
    """Units each group asks for: the sum of its ``resources:RC`` amounts,
    as Nova counts them (``get_device_amount_of_dp_groups``)."""
    return [sum(int(value) for key, value in group.items()
                if key.startswith(RESOURCES_PREFIX)) for group in groups]


def create(services: flow.Services, profile_name: str, context
           ) -> list[models.AcceleratorRequest]:
    """One ``Initial`` ARQ per unit the profile's groups ask for, in the
    caller's project."""
    profile = device_profiles.get(services.db, name=profile_name)
    return accelerator_requests.create(
        services.db, profile, units_per_group(profile.groups),
        context.project_id, context.user_id)


@dataclasses.dataclass(frozen=True)
class Target:
    """Where one ARQ is to be bound (the values of Nova's PATCH)."""

    hostname: str
    device_rp_uuid: str
    instance_uuid: str

    def values(self) -> dict:
        return dataclasses.asdict(self)


def _already(arq: models.AcceleratorRequest, target: Target) -> bool:
    """True for an ARQ bound to ``target`` already (a repeated PATCH);
    raise for one bound elsewhere."""
    if arq.state == models.ARQ_INITIAL:
        return False
    if (arq.state == models.ARQ_BOUND and arq.attachment is not None
            and arq.attachment.holds_accelerator
            and Target(arq.hostname, arq.device_rp_uuid,
                       arq.instance_uuid) == target):
        return True
    raise exceptions.RequestStateConflict(
        f'Accelerator request {arq.uuid} is {arq.state} (instance '
        f'{arq.instance_uuid}, pool {arq.device_rp_uuid}); unbind it first.')


def _pool_hosts(services: flow.Services, pools: set[str]) -> dict[str, str]:
    """The host of each pool; refuse pools ARQs cannot be bound in."""
    hosts = {}
    for pool in sorted(pools):
        host = accelerators.host_of_pool(services.db, pool)
        if host is None:
            raise exceptions.UnknownPool(
                f'device_rp_uuid {pool} is not an accelerator pool of this '
                'service (no unit was reported in it).')
        if accelerators.vgpu_interface_of_pool(
                services.db, pool) == models.VGPU_VFIO:
            raise exceptions.VfioVgpuRequest(pool)
        hosts[pool] = host
    return hosts


def _assign(services: flow.Services, todo: dict[str, list],
            bound: list[models.Attachment]) -> list[tuple]:
    """Give each ARQ of a pool one of the instance's bindings there that no
    ARQ has yet; refuse when there are fewer than ARQs."""
    taken = accelerator_requests.in_use(services.db, [b.id for b in bound])
    free = collections.defaultdict(list)
    for binding in bound:
        if binding.id not in taken:
            free[binding.accelerator.pool_provider_uuid].append(binding)
    pairs = []
    for pool, requests in todo.items():
        if len(requests) > len(free[pool]):
            instance = requests[0][1].instance_uuid
            raise exceptions.RequestsNotBindable(
                f'{len(requests)} accelerator request(s) of instance '
                f'{instance} ask for units of pool {pool}, where its '
                f'allocation in Placement holds {len(free[pool])} unit(s) '
                'not bound to another request. Nothing was bound.')
        pairs += [(arq, binding, target.values()) for (arq, target), binding
                  in zip(requests, free[pool][:len(requests)], strict=True)]
    return pairs


def bind(services: flow.Services,
         wanted: list[tuple[models.AcceleratorRequest, Target]], context
         ) -> None:
    """Bind each ARQ to a unit of its pool held by its instance, all or none.

    For each instance and host this is :func:`bindings.bind` (the units the
    instance's allocation holds on the host's pools); bindings that call made
    are released again when the ARQs cannot all be bound.
    """
    todo = [(arq, target) for arq, target in wanted
            if not _already(arq, target)]
    hosts = _pool_hosts(services, {t.device_rp_uuid for _, t in todo})
    per_instance = collections.defaultdict(
        lambda: collections.defaultdict(list))
    for arq, target in todo:
        key = (target.instance_uuid, hosts[target.device_rp_uuid])
        per_instance[key][target.device_rp_uuid].append((arq, target))
    made: list[models.Attachment] = []
    try:
        pairs = []
        for (instance_uuid, host), pools in per_instance.items():
            before = {b.id for b in attachments.bindings_of(
                services.db, instance_uuid, host)}
            bound = bindings.bind(services, instance_uuid, host, context,
                                  asked=frozenset(pools))
            made += [b for b in bound if b.id not in before]
            pairs += _assign(services, pools, bound)
        if pairs:
            accelerator_requests.bind(services.db, pairs)
    except Exception:
        bindings.release_records(services, made, (
            'Released: the accelerator requests it was made for could not '
            'all be bound.'))
        raise


def unbind(services: flow.Services,
           arqs: list[models.AcceleratorRequest]) -> None:
    """Back to ``Initial``; their bindings are released."""
    release(services, arqs, 'unbound')
    accelerator_requests.unbind(services.db, arqs)


def release(services: flow.Services, arqs: list[models.AcceleratorRequest],
            how: str) -> None:
    """Release the bindings of these ARQs (``how``: why, for the reason)."""
    records = [a.attachment for a in arqs
               if a.attachment is not None and a.attachment.holds_accelerator]
    bindings.release_records(services, records, (
        f'Released: its accelerator request was {how}.'))


def delete(services: flow.Services, arqs: list[models.AcceleratorRequest]
           ) -> None:
    """Delete these ARQs, releasing their bindings first."""
    release(services, arqs, 'deleted')
    accelerator_requests.delete(services.db, arqs)
