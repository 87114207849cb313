"""``/instances/{instance_uuid}/bindings``: the units an instance's own
(Nova's) allocation holds, bound to concrete accelerators."""
import flask

from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api import visibility
from cyborg_placement.api.policies import instances as policies
from cyborg_placement.api.schemas import instances as schemas
from cyborg_placement.attach import bindings
from cyborg_placement.attach import numa
from cyborg_placement.db import accelerators
from cyborg_placement.db import attachments
from cyborg_placement.db import models


def _answer(records: list[models.Attachment]):
    """Each bound accelerator as ``GET /accelerators/{uuid}`` shows it: the
    binding is its active, hence its latest, attachment."""
    return util.json_response({'bindings': [
        views.visible(util.viewer(),
                      accelerators.AcceleratorView(r.accelerator, r))
        for r in records]})


def update_bindings(instance_uuid: str):
    """Follow the instance's allocation on the host's pools, taking new
    units by the guest's NUMA affinity when the body gives it."""
    context = util.context()
    context.can(policies.UPDATE_BINDINGS)
    instance_uuid = util.path_uuid(instance_uuid, 'instance')
    body = util.json_body(schemas.BIND)
    state = util.app_state()
    return _answer(bindings.bind(
        state.services, instance_uuid, body['host'], context,
        affinity=numa.Affinity.from_body(body.get('numa'))))


def delete_bindings(instance_uuid: str):
    """Release on ``?host=`` (without it: on every host); idempotent."""
    util.context().can(policies.DELETE_BINDINGS)
    instance_uuid = util.path_uuid(instance_uuid, 'instance')
    args = util.query_args(schemas.RELEASE_QUERY)
    host = args.get('host')
    if host is not None:
        host = util.text_param(host, 'host', schemas.RELEASE_QUERY['host'])
    bindings.release(util.app_state().services, instance_uuid, host)
    return flask.Response(status=204)


def show_bindings(instance_uuid: str):
    """Every host's. The policy is checked before the lookup, then with
    each binding's project (its instance's, copied from its Placement
    consumer): another project's instance answers as one without
    bindings, as Nova answers 404 for another project's server."""
    context = util.context()
    context.can(policies.SHOW_BINDINGS)  # before any lookup
    instance_uuid = util.path_uuid(instance_uuid, 'instance')
    found = attachments.bindings_of(util.app_state().db, instance_uuid)
    return _answer([r for r in found if context.allows(
        policies.SHOW_BINDINGS,
        visibility.target(visibility.holder_project(r)))])
