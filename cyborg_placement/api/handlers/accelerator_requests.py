"""``/v2/accelerator_requests``: the ARQs Nova's Cyborg client creates,
binds after scheduling, reads on every spawn and deletes with the server.

ARQs are their project's: a caller without
``accelerator_request:all_projects`` (admins and services have it) sees
only its own project's, and any other is "not found" to it.
"""
import flask

from cyborg_placement.api import errors
from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api.policies import accelerator_requests as policies
from cyborg_placement.api.schemas import accelerator_requests as schemas
from cyborg_placement.attach import requests
from cyborg_placement.db import accelerator_requests
from cyborg_placement.db import exceptions
from cyborg_placement.db import models


def _project(context) -> str | None:
    """The project whose ARQs the caller sees; None for every project."""
    if context.allows(policies.ALL_PROJECTS):
        return None
    return context.project_id


def _visible(context, uuids: list[str]) -> list[models.AcceleratorRequest]:
    """These ARQs, each of which must exist and be the caller's to see."""
    found = {a.uuid: a for a in accelerator_requests.list_all(
        util.app_state().db, project_id=_project(context), uuids=uuids)}
    missing = [uuid for uuid in uuids if uuid not in found]
    if missing:
        raise exceptions.AcceleratorRequestNotFound(
            f'No accelerator request {", ".join(missing)}.')
    return [found[uuid] for uuid in uuids]


def _answer(arqs: list[models.AcceleratorRequest], status: int = 200):
    return util.json_response(
        {'arqs': [views.accelerator_request(a) for a in arqs]}, status)


def list_accelerator_requests():
    context = util.context()
    context.can(policies.LIST)
    instance = util.query_args(schemas.LIST_QUERY).get('instance')
    return _answer(accelerator_requests.list_all(
        util.app_state().db, project_id=_project(context),
        instance_uuid=instance and util.path_uuid(instance, 'instance')))


def show_accelerator_request(uuid: str):
    context = util.context()
    context.can(policies.SHOW)
    arq = _visible(context, [util.path_uuid(uuid, 'accelerator request')])[0]
    return util.json_response(views.accelerator_request(arq))


def create_accelerator_requests():
    context = util.context()
    context.can(policies.CREATE)
    name = util.json_body(schemas.CREATE)['device_profile_name']
    return _answer(requests.create(util.app_state().services, name, context),
                   201)


def _change(context, operations: dict[str, list[dict]]) -> list[str]:
    """Bind (every ARQ "add"s hostname, device_rp_uuid and instance_uuid)
    or unbind (every ARQ "remove"s them); one or the other for all."""
    uuids = list(operations)
    arqs = _visible(context, uuids)
    for arq in arqs:
        context.can(policies.UPDATE, {'project_id': arq.project_id})
    kinds = {op['op'] for ops in operations.values() for op in ops}
    if kinds == {'remove'}:
        requests.unbind(util.app_state().services, arqs)
        return uuids
    if len(kinds) != 1:
        raise errors.BadRequest(
            'A PATCH either binds (op "add") or unbinds (op "remove") its '
            'accelerator requests, not both.')
    wanted = []
    for arq in arqs:
        values = {op['path']: op['value'] for op in operations[arq.uuid]}
        absent = [p for p in schemas.BIND_FIELDS if p not in values]
        if absent:
            raise errors.BadRequest(
                f'The bind of accelerator request {arq.uuid} lacks '
                f'{", ".join(absent)}.')
        wanted.append((arq, requests.Target(
            hostname=values['/hostname'],
            device_rp_uuid=util.path_uuid(values['/device_rp_uuid'],
                                          'device_rp_uuid'),
            instance_uuid=util.path_uuid(values['/instance_uuid'],
                                         'instance'))))
    requests.bind(util.app_state().services, wanted, context)
    return uuids


def update_accelerator_requests():
    """Nova's bind: ``{arq_uuid: [patch...]}``, synchronous, all or none;
    answers the ARQs as they are now (``Bound``)."""
    context = util.context()
    context.can(policies.UPDATE)
    body = util.json_body(schemas.PATCH)
    operations = {util.path_uuid(uuid, 'accelerator request'): ops
                  for uuid, ops in body.items()}
    uuids = _change(context, operations)
    return _answer(_visible(context, uuids))


def update_accelerator_request(uuid: str):
    """A JSON patch list, or (openstacksdk) ``{uuid: [patch...]}``."""
    context = util.context()
    context.can(policies.UPDATE)
    uuid = util.path_uuid(uuid, 'accelerator request')
    body = util.json_body(schemas.PATCH_ITEM)
    if isinstance(body, dict):
        (named, body), = body.items()
        if util.path_uuid(named, 'accelerator request') != uuid:
            raise errors.BadRequest(
                f'The patch names accelerator request {named}, not {uuid}.')
    _change(context, {uuid: body})
    return util.json_response(
        views.accelerator_request(_visible(context, [uuid])[0]))


def delete_accelerator_requests():
    """``?instance=UUID`` (idempotent) or ``?arqs=u1,u2`` (each must exist
    and be the caller's to see: 404 and nothing deleted otherwise, as
    Cyborg answers); their units are released."""
    context = util.context()
    context.can(policies.DELETE)
    args = util.query_args(schemas.DELETE_QUERY)
    if len(args) != 1:
        raise errors.BadRequest('Give either ?instance=UUID or '
                                '?arqs=UUID,UUID,...')
    db = util.app_state().db
    if 'instance' in args:
        arqs = accelerator_requests.list_all(
            db, project_id=_project(context),
            instance_uuid=util.path_uuid(args['instance'], 'instance'))
    else:
        raw = util.text_param(args['arqs'], 'arqs',
                              schemas.DELETE_QUERY['arqs'])
        arqs = _visible(context, [util.path_uuid(u, 'accelerator request')
                                  for u in raw.split(',')])
    for arq in arqs:
        context.can(policies.DELETE, {'project_id': arq.project_id})
    requests.delete(util.app_state().services, arqs)
    return flask.Response(status=204)


def delete_accelerator_request(uuid: str):
    context = util.context()
    context.can(policies.DELETE)
    arq = _visible(context, [util.path_uuid(uuid, 'accelerator request')])[0]
    context.can(policies.DELETE, {'project_id': arq.project_id})
    requests.delete(util.app_state().services, [arq])
    return flask.Response(status=204)
