"""``/v2/devices`` and ``/v2/deployables``: our units, as Cyborg's clients
list them. Each reported unit is one device with one deployable of the
same uuid (a unit is what Nova and acc-attach take)."""
import flask
import microversion_parse

from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api.policies import devices as policies
from cyborg_placement.api.schemas import devices as schemas
from cyborg_placement.attach import attributes
from cyborg_placement.attach import devices
from cyborg_placement.db import accelerators

#: From this microversion a device shows its ``status``.
WITH_STATUS = microversion_parse.Version(2, 3)
#: Cyborg's filter names -> ours.
_FILTERS = {'hostname': 'host', 'type': 'device_type', 'vendor': 'vendor_id'}


def _sight():
    """What the caller sees of a unit's place: these lists name no
    holder, so the sight of a free unit."""
    return util.viewer().sight(None, holds=False)


def _device(unit):
    return views.device(unit, flask.g.version >= WITH_STATUS, _sight())


def _unit(uuid: str):
    return accelerators.get_record(util.app_state().db,
                                   util.path_uuid(uuid, 'device'))


def list_devices():
    util.context().can(policies.LIST)
    args = util.query_args(schemas.LIST_QUERY)
    if 'hostname' in args and not _sight().host:
        # As ?host= on /accelerators: a host it may not see is no host.
        return util.json_response({'devices': []})
    found = accelerators.list_reported(util.app_state().db, **{
        ours: util.text_param(args[theirs], theirs,
                              schemas.LIST_QUERY[theirs])
        for theirs, ours in _FILTERS.items() if theirs in args})
    return util.json_response({'devices': [_device(u) for u in found]})


def show_device(uuid: str):
    util.context().can(policies.SHOW)
    return util.json_response(_device(_unit(uuid)))


def _set_enabled(uuid: str, enabled: bool):
    """200 without a body, as Cyborg answers (openstacksdk reads none)."""
    devices.set_enabled(util.app_state().services,
                        util.path_uuid(uuid, 'device'), enabled)
    return flask.Response(status=200)


def enable_device(uuid: str):
    util.context().can(policies.ENABLE)
    return _set_enabled(uuid, True)


def disable_device(uuid: str):
    util.context().can(policies.DISABLE)
    return _set_enabled(uuid, False)


def _deployables(units: list) -> list[dict]:
    of_unit = {unit.id: [] for unit in units}
    for attribute in attributes.of_units(util.app_state().services, units):
        of_unit[attribute.unit.id].append(attribute)
    return [views.deployable(u, _sight(), of_unit[u.id]) for u in units]


def list_deployables():
    util.context().can(policies.LIST_DEPLOYABLES)
    util.query_args(())
    return util.json_response({'deployables': _deployables(
        accelerators.list_reported(util.app_state().db))})


def show_deployable(uuid: str):
    util.context().can(policies.SHOW_DEPLOYABLE)
    return util.json_response(_deployables([_unit(uuid)])[0])
