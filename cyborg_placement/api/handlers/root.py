"""Version discovery, health check and the OpenAPI description."""
import flask
import sqlalchemy as sa

from cyborg_placement.api import microversion
from cyborg_placement.api import openapi
from cyborg_placement.api import util


def _version(version_id: str, served: microversion.Range, href: str) -> dict:
    return {'id': version_id, 'status': 'CURRENT',
            'min_version': str(served.min), 'max_version': str(served.max),
            'links': [{'rel': 'self', 'href': href}]}


def _v2() -> dict:
    return _version('v2.0', microversion.V2,
                    flask.request.host_url + microversion.V2_PREFIX[1:] + '/')


def versions():
    """Both APIs: ours (1.x, at the root) and the Cyborg-compatible subset
    (2.x, under /v2). keystoneauth picks by the major version a client asks
    for (openstacksdk's accelerator proxy: 2)."""
    return util.json_response({'versions': [
        _version('v1.0', microversion.V1, flask.request.host_url), _v2()]})


def version_v2():
    """What keystoneauth reads at an endpoint ending in /v2 (Nova's)."""
    return util.json_response({'version': _v2()})


def healthcheck():
    """200 when the database answers; 503 otherwise (for load balancers)."""
    try:
        with util.app_state().db.reader() as session:
            session.execute(sa.text('SELECT 1'))
    except sa.exc.SQLAlchemyError as exc:
        return util.json_response(
            {'status': 'unavailable', 'database': str(exc.__class__.__name__)},
            503)
    return util.json_response({'status': 'ok'})


def describe():
    return util.json_response(openapi.document())
