"""Version discovery, health check and the OpenAPI description."""
import flask
import sqlalchemy as sa

from cyborg_placement.api import microversion
from cyborg_placement.api import openapi
from cyborg_placement.api import util


def versions():
    return util.json_response({'versions': [{
        'id': 'v1.0',
        'status': 'CURRENT',
        'min_version': str(microversion.MIN_VERSION),
        'max_version': str(microversion.MAX_VERSION),
        'links': [{'rel': 'self', 'href': flask.request.host_url}],
    }]})


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
