"""``/v2/device_profiles``: what a flavor's ``accel:device_profile`` names."""
import flask
import microversion_parse

from cyborg_placement.api import errors
from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api.policies import device_profiles as policies
from cyborg_placement.api.schemas import device_profiles as schemas
from cyborg_placement.attach import requests
from cyborg_placement.db import device_profiles
from cyborg_placement.db import exceptions

#: From this microversion a profile is found by name as well as by uuid.
BY_NAME = microversion_parse.Version(2, 2)


def _find(name_or_uuid: str, by_name: bool):
    """The profile of this uuid, or of this name when ``by_name``."""
    util.text_param(name_or_uuid, 'device profile', schemas.NAME_OR_UUID)
    db = util.app_state().db
    try:
        uuid = util.path_uuid(name_or_uuid, 'device profile')
    except errors.BadRequest:
        if not by_name:
            # As Cyborg: no profile has this uuid.
            raise exceptions.DeviceProfileNotFound(
                f'No device profile with uuid {name_or_uuid!r} (names are '
                f'looked up from microversion {BY_NAME}).') from None
        return device_profiles.get(db, name=name_or_uuid)
    return device_profiles.get(db, uuid=uuid)


def list_device_profiles():
    util.context().can(policies.LIST)
    args = util.query_args(schemas.LIST_QUERY)
    name = args.get('name')
    names = None
    if name is not None:
        # As Cyborg: several names separated by commas.
        names = util.text_param(name, 'name', schemas.LIST_QUERY['name']
                                ).split(',')
    found = device_profiles.list_all(util.app_state().db, names)
    return util.json_response(
        {'device_profiles': [views.device_profile(p) for p in found]})


def show_device_profile(name_or_uuid: str):
    util.context().can(policies.SHOW)
    found = _find(name_or_uuid, flask.g.version >= BY_NAME)
    # Cyborg wraps this one answer (and only this one) in its resource key.
    return util.json_response({'device_profile': views.device_profile(found)})


def create_device_profile():
    """A JSON list of one profile, as Cyborg takes it; each group must ask
    for at least one unit (Nova makes a request group of each)."""
    util.context().can(policies.CREATE)
    profile = util.json_body(schemas.CREATE)[0]
    for index, units in enumerate(requests.units_per_group(profile['groups'])):
        if not units:
            raise errors.BadRequest(
                f'Group {index} of device profile {profile["name"]!r} asks '
                'for no unit: give it a "resources:<RESOURCE_CLASS>" key.')
    uuid = profile.get('uuid')
    made = device_profiles.create(
        util.app_state().db, profile['name'], profile['groups'],
        profile.get('description'),
        uuid and util.path_uuid(uuid, 'device profile'))
    return util.json_response(views.device_profile(made), 201, {
        'Location': flask.url_for('show_device_profile',
                                  name_or_uuid=made.uuid)})


def _delete(value: str):
    """Cyborg's delete: a uuid, or names and uuids separated by commas, by
    name at every microversion; all of them or, if one does not exist
    (404) or is in use by accelerator requests (409), none."""
    found = [_find(each, by_name=True)
             for each in util.text_param(value, 'value', schemas.DELETE_VALUE
                                         ).split(',')]
    device_profiles.delete(util.app_state().db, *(p.uuid for p in found))
    return flask.Response(status=204)


def delete_device_profile(name_or_uuid: str):
    util.context().can(policies.DELETE)
    return _delete(name_or_uuid)


def delete_device_profiles():
    """``?value=NAME,UUID,...``; without it (``DELETE
    /v2/device_profiles/``, a name left empty) nothing is named: 400."""
    util.context().can(policies.DELETE)
    value = util.query_args(schemas.DELETE_QUERY).get('value')
    if not value:
        raise errors.BadRequest('Name the device profiles to delete: '
                                '?value=NAME_OR_UUID,NAME_OR_UUID,...')
    return _delete(value)
