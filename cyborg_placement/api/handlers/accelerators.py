"""``/accelerators``: list, show, create, replace acc_specs."""
import flask

from cyborg_placement.api import errors
from cyborg_placement.api import policy
from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api.policies import accelerators as policies
from cyborg_placement.api.schemas import accelerators as schemas
from cyborg_placement.db import accelerators
from cyborg_placement.db import exceptions

MAX_LIMIT = 1000
_FILTERS = ('host', 'device_type', 'state')


def _authorize(rule: str) -> None:
    policy.authorize(util.app_state().enforcer, rule, util.context())


def list_accelerators():
    _authorize(policies.LIST)
    args = flask.request.args
    unknown = set(args) - {*_FILTERS, 'instance_uuid', 'limit', 'marker'}
    if unknown:
        raise errors.BadRequest(
            f'Unknown query parameters: {", ".join(sorted(unknown))}.')
    instance_uuid = args.get('instance_uuid')
    marker = args.get('marker')
    found = accelerators.list_views(
        util.app_state().db,
        limit=util.query_int('limit', MAX_LIMIT, 1, MAX_LIMIT),
        marker=marker and util.path_uuid(marker, 'marker'),
        instance_uuid=instance_uuid and util.path_uuid(instance_uuid,
                                                       'instance'),
        **{name: args.get(name) for name in _FILTERS})
    return util.json_response(
        {'accelerator': [views.accelerator(v) for v in found]})


def show_accelerator(uuid: str):
    _authorize(policies.SHOW)
    view = accelerators.get(util.app_state().db, util.path_uuid(uuid))
    return util.json_response(views.accelerator(view),
                              headers={'ETag': views.etag(view.accelerator)})


def _created(record):
    location = flask.url_for('show_accelerator', uuid=record.uuid)
    return flask.Response(status=201, headers={'Location': location})


def create_accelerator():
    _authorize(policies.CREATE)
    data = util.json_body(schemas.CREATE)
    return _created(accelerators.create(
        util.app_state().db, data['name'], data.get('uuid'),
        data.get('acc_specs')))


def create_accelerator_with_uuid(uuid: str):
    _authorize(policies.CREATE)
    uuid = util.path_uuid(uuid)
    data = util.json_body(schemas.CREATE_WITH_UUID)
    return _created(accelerators.create(
        util.app_state().db, data['name'], uuid, data.get('acc_specs')))


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
    _authorize(policies.UPDATE_SPECS)
    db = util.app_state().db
    uuid = util.path_uuid(uuid)
    data = util.json_body(schemas.UPDATE_SPECS)
    revision = _if_match_revision(db, uuid)
    accelerators.update_specs(db, uuid, data['acc_specs'], revision)
    view = accelerators.get(db, uuid)
    return util.json_response(views.accelerator(view),
                              headers={'ETag': views.etag(view.accelerator)})
