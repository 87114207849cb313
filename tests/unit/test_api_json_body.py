"""Response bodies written by orjson read as Flask's own provider writes them."""
import datetime
import json

import flask
import pytest

from cyborg_placement.api import json_body


@pytest.fixture
def app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.json = json_body.OrjsonProvider(app)
    return app


def _both(app: flask.Flask, payload) -> tuple[bytes, bytes]:
    """The body our provider writes, and the one Flask's would."""
    with app.app_context():
        ours = flask.jsonify(payload).get_data()
    stock = flask.Flask(__name__)
    stock.json.sort_keys = False
    with stock.app_context():
        return ours, flask.jsonify(payload).get_data()


@pytest.mark.parametrize('payload', [
    {'accelerator': [{'uuid': 'a', 'name': 'gpü-0', 'numa_node': None,
                      'disabled': False, 'acc_specs': {'remote': 0}}]},
    # Bad input quoted back: a lone surrogate, which UTF-8 cannot carry.
    {'error': 'No profile named \udbe8.'},
    # Keys that are not strings, which only the standard encoder takes.
    {1: 'one', None: 'none'},
    {'when': datetime.datetime(2026, 12, 6, 3, 0, 0)},
    [1, 2.5, 'x', 2 ** 70],
])
def test_a_body_reads_as_flasks_own(app, payload):
    ours, stock = _both(app, payload)
    assert json.loads(ours) == json.loads(stock)


def test_keys_keep_the_order_views_give(app):
    ours, _ = _both(app, {'uuid': 'u', 'name': 'n', 'host': 'h'})
    assert list(json.loads(ours)) == ['uuid', 'name', 'host']


def test_a_body_is_json_with_a_newline(app):
    with app.app_context():
        response = flask.jsonify({'a': 1})
    assert response.mimetype == 'application/json'
    assert response.get_data() == b'{"a":1}\n'
