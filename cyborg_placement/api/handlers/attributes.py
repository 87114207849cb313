"""``/v2/attributes``: Cyborg's key/value attributes of deployables (our
reported units). ``rc`` and the pool's traits are derived from the device
report; an admin adds and deletes others (``attach/attributes.py``)."""
import flask

from cyborg_placement.api import errors
from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api.policies import attributes as policies
from cyborg_placement.api.schemas import attributes as schemas
from cyborg_placement.attach import attributes
from cyborg_placement.db import accelerators
from cyborg_placement.db import attributes as stored
from cyborg_placement.db import exceptions
from cyborg_placement.db import models


def _deployables(wanted: int | str | None = None
                 ) -> list[models.Accelerator]:
    """Reported units; with ``wanted`` (an integer id or a uuid), that one
    if it is one of them."""
    units = accelerators.list_reported(util.app_state().db)
    if wanted is None:
        return units
    return [u for u in units if wanted in (u.id, u.uuid)]


def _wanted(raw: str) -> int | str:
    """A deployable as a query names it: Cyborg's integer id, or a uuid."""
    if raw.isascii() and raw.isdigit():
        return int(raw)
    return util.path_uuid(raw, 'deployable')


def _find(uuid: str) -> attributes.Attribute:
    uuid = util.path_uuid(uuid, 'attribute')
    found = stored.find(util.app_state().db, uuid)
    if found is not None:
        return attributes.stored(found)
    for shown in attributes.of_units(util.app_state().services,
                                     _deployables()):
        if shown.uuid == uuid:
            return shown
    raise exceptions.AttributeNotFound(f'No attribute {uuid}.')


def list_attributes():
    util.context().can(policies.LIST)
    args = util.query_args(schemas.LIST_QUERY)
    key = args.get('key')
    if key is not None:
        util.text_param(key, 'key', schemas.LIST_QUERY['key'])
    wanted = args.get('deployable_id')
    units = _deployables(None if wanted is None else _wanted(
        util.text_param(wanted, 'deployable_id',
                        schemas.LIST_QUERY['deployable_id'])))
    found = attributes.of_units(util.app_state().services, units, key)
    return util.json_response(
        {'attributes': [views.attribute(a) for a in found]})


def show_attribute(uuid: str):
    util.context().can(policies.SHOW)
    return util.json_response(views.attribute(_find(uuid)))


def create_attribute():
    util.context().can(policies.CREATE)
    body = util.json_body(schemas.CREATE)
    body = body.get('attribute', body)
    wanted = body['deployable_id']
    # JSON numbers: 7.0 is the integer 7 to the schema, and to us.
    units = _deployables(int(wanted) if isinstance(wanted, (int, float))
                         else util.path_uuid(wanted, 'deployable'))
    if not units:
        raise errors.NotFound(f'No deployable {body["deployable_id"]}.',
                              errors.ACCELERATOR_NOT_FOUND)
    made = attributes.create(util.app_state().services, units[0],
                             body['key'], body['value'])
    return util.json_response(views.attribute(made), 201, {
        'Location': flask.url_for('show_attribute', uuid=made.uuid)})


def delete_attribute(uuid: str):
    """Only what an admin gave: ``rc`` and the traits are 409."""
    util.context().can(policies.DELETE)
    attributes.delete(util.app_state().services, _find(uuid))
    return flask.Response(status=204)
