"""Service calls of a host: the agent's device report and the reconciler's
feed of attachment changes."""
import collections

from cyborg_placement import vocabulary
from cyborg_placement.api import errors
from cyborg_placement.api import util
from cyborg_placement.api import views
from cyborg_placement.api.policies import hosts as policies
from cyborg_placement.api.schemas import hosts as schemas
from cyborg_placement.attach import bindings
from cyborg_placement.db import accelerators
from cyborg_placement.db import attachments
from cyborg_placement.db import reports


def _check_unit(host: str, unit: dict) -> None:
    """Refuse a unit whose vGPU fields do not go together or whose name
    would not fit; make its addresses and UUID lower case."""
    for field in ('pci_address', 'parent_address', 'mdev_uuid'):
        if unit.get(field) is not None:
            unit[field] = unit[field].lower()
    problem = schemas.vgpu_problem(unit)
    if problem:
        raise errors.BadRequest(f'Unit {unit["pci_address"]}: {problem}.')
    name = accelerators.reported_name(host, unit['pci_address'],
                                      unit.get('vgpu_type'))
    if len(name) > schemas.MAX_NAME:
        raise errors.BadRequest(
            f'Unit {unit["pci_address"]}: its name {name!r} is longer than '
            f'{schemas.MAX_NAME} characters (host name and vgpu_type).')


def _check_repeated(keys: list[str], what: str) -> None:
    repeated = [key for key, n in collections.Counter(keys).items() if n > 1]
    if repeated:
        raise errors.BadRequest(
            f'{what} reported more than once: {", ".join(repeated)}.')


def report_devices(host: str):
    util.context().can(policies.REPORT_DEVICES)
    state = util.app_state()
    host = util.text_param(host, 'host', schemas.REPORTING_HOST)
    body = util.json_body(schemas.DEVICE_REPORT)
    digest = vocabulary.report_digest(body)  # as its agent computed it
    units = body['accelerators']
    for unit in units:
        _check_unit(host, unit)
    _check_repeated([u['pci_address'] + (f' (vgpu_type {u["vgpu_type"]})'
                                         if u.get('vgpu_type') else '')
                     for u in units], 'PCI addresses')
    _check_repeated([u['mdev_uuid'] for u in units if u.get('mdev_uuid')],
                    'mdev UUIDs')
    found = reports.apply_report(state.db, host, units, digest)
    return util.json_response(
        {'accelerators': [views.visible(util.viewer(), v) for v in found]})


def list_attachments(host: str):
    """Changes after ``changes_since`` (0: every active attachment), and
    which of the host's units are disabled or held (``units``): the agent
    reserves its disabled and unhealthy free units in Placement; and the
    digest of the host's last accepted device report (``report_digest``,
    None for none): the agent sends its report again when its own differs.

    Attaches interrupted before their claim was confirmed are finished or
    rolled back first, the host's pools are swept of claims no record
    explains, and bindings whose unit no consumer holds in Placement any
    more are released, so each reconcile also cleans up after API crashes
    and instances deleted or moved while their host was down.
    """
    util.context().can(policies.LIST_ATTACHMENTS)
    state = util.app_state()
    host = util.text_param(host, 'host', schemas.HOST)
    since = util.query_int('changes_since', 0,
                           schemas.FEED_QUERY['changes_since'])
    limit = util.query_int('limit', schemas.MAX_CHANGES,
                           schemas.FEED_QUERY['limit'])
    bindings.repair_host(state.services, host)
    rows, revision = attachments.changes(state.db, host, since, limit)
    units = accelerators.host_units(state.db, host)
    return util.json_response({
        'attachments': [views.visible_attachment(util.viewer(), r)
                        for r in rows],
        'revision': revision,
        'units': {'disabled': units.disabled, 'held': units.held},
        'report_digest': reports.last_digest(state.db, host)})
