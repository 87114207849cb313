"""``/accelerators``: list, show, create, replace acc_specs, attach, detach."""
import flask

from cyborg_placement.api import errors
from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api import visibility
from cyborg_placement.api.policies import accelerators as policies
from cyborg_placement.api.schemas import accelerators as schemas
from cyborg_placement.attach import flow
from cyborg_placement.db import accelerators
from cyborg_placement.db import attachments
from cyborg_placement.db import exceptions

_FILTERS = ('host', 'device_type', 'state', 'health')


def list_accelerators():
    """Hidden fields are left out; a filter naming what the caller may not
    see matches nothing (see :meth:`visibility.Viewer.matches`)."""
    util.context().can(policies.LIST)
    args = util.query_args(schemas.LIST_QUERY)
    db = util.app_state().db
    limit = util.query_int('limit', schemas.MAX_LIMIT,
                           schemas.LIST_QUERY['limit'])
    instance_uuid = args.get('instance_uuid')
    instance_uuid = instance_uuid and util.path_uuid(instance_uuid,
                                                     'instance')
    marker = args.get('marker')
    filters = {name: util.text_param(args[name], name,
                                     schemas.LIST_QUERY[name])
               for name in _FILTERS if name in args}
    viewer = util.viewer()
    found = visibility.visible_page(
        lambda after: accelerators.list_views(
            db, limit=limit, marker=after, instance_uuid=instance_uuid,
            **filters),
        viewer.matches(filters.get('host'), instance_uuid),
        marker and util.path_uuid(marker, 'marker'), limit,
        lambda view: view.accelerator.uuid)
    return util.json_response(
        {'accelerator': [views.visible(viewer, v) for v in found]})


def show_accelerator(uuid: str):
    util.context().can(policies.SHOW)
    view = accelerators.get(util.app_state().db, util.path_uuid(uuid))
    return util.json_response(views.visible(util.viewer(), view),
                              headers={'ETag': views.etag(view.accelerator)})


def _created(record):
    location = flask.url_for('show_accelerator', uuid=record.uuid)
    return flask.Response(status=201, headers={'Location': location})


def _create(data: dict, uuid: str | None):
    return _created(accelerators.create(
        util.app_state().db, data['name'], uuid, data.get('acc_specs')))


def create_accelerator():
    util.context().can(policies.CREATE)
    data = util.json_body(schemas.CREATE)
    return _create(data, data.get('uuid') and util.path_uuid(data['uuid']))


def create_accelerator_with_uuid(uuid: str):
    """The body may repeat the path's uuid, as the seed spec's example does
    (compared as uuids, so case and form do not matter); a different one is
    refused."""
    util.context().can(policies.CREATE)
    uuid = util.path_uuid(uuid)
    data = util.json_body(schemas.CREATE)
    if 'uuid' in data and util.path_uuid(data['uuid']) != uuid:
        raise errors.BadRequest(
            f'The body\'s uuid {data["uuid"]} is not the uuid {uuid} of the '
            'path; leave it out or give the same one.')
    return _create(data, uuid)


def _if_match_revision(db, uuid: str) -> int | None:
    """The revision If-Match names, checked against the current one."""
    if_match = flask.request.if_match
    if not if_match or if_match.star_tag:
        return None
    current = accelerators.get_record(db, uuid).revision
    if not if_match.contains(str(current)):
        raise exceptions.StaleRevision(
            f'Accelerator {uuid} is at revision "{current}", not '
            f'{if_match.to_header()}: someone else changed it; read it again.')
    return current


def update_specs(uuid: str):
    util.context().can(policies.UPDATE_SPECS)
    db = util.app_state().db
    uuid = util.path_uuid(uuid)
    data = util.json_body(schemas.UPDATE_SPECS)
    revision = _if_match_revision(db, uuid)
    accelerators.update_specs(db, uuid, data['acc_specs'], revision)
    view = accelerators.get(db, uuid)
    return util.json_response(views.visible(util.viewer(), view),
                              headers={'ETag': views.etag(view.accelerator)})


def _attach_rule(data: dict) -> str:
    if 'host' in data:
        return policies.ATTACH_HOST
    return (policies.ATTACH_INSTANCE if data.get('claim', True)
            else policies.BIND_EXISTING)


def attach_accelerator(uuid: str):
    """Attach to an instance or a host.

    The policy is checked right after the body says which kind, before any
    lookup: a caller who may not attach learns nothing about accelerators
    and costs Placement nothing. Host attachments have no project; an
    instance's project is checked again once its consumer is known.
    """
    context = util.context()
    data = util.json_body(schemas.ATTACH)
    rule = _attach_rule(data)
    context.can(rule, {'project_id': None if 'host' in data
                       else context.project_id})
    state = util.app_state()
    uuid = util.path_uuid(uuid)
    record = accelerators.get_record(state.db, uuid)
    if 'host' in data:
        target = flow.host_target(state.services, record, data['host'],
                                  context, data.get('driver'))
        flow.attach(state.services, record, target)
    else:
        target = flow.instance_target(state.services, record,
                                      data['instance_uuid'], context)
        context.can(rule, {'project_id': target.project_id})
        if rule == policies.ATTACH_INSTANCE:
            flow.attach(state.services, record, target)
        else:
            flow.bind(state.services, record, target)
    return util.json_response(views.visible(
        util.viewer(), accelerators.get(state.db, uuid)))


def detach_accelerator(uuid: str):
    """Detaching what is not attached is a no-op; the project checked is
    the attachment's (host attachments have none: admins only)."""
    context = util.context()
    state = util.app_state()
    record = accelerators.get_record(state.db, util.path_uuid(uuid))
    active = attachments.active_for(state.db, record.id)
    context.can(policies.DETACH, None if active is None else
                visibility.target(visibility.holder_project(active)))
    if active is not None:
        flow.detach(state.services, active)
    return flask.Response(status=204)
