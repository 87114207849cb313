"""Request helpers every handler uses: the context, JSON bodies, paths."""
import json
import math
import uuid

import flask
import jsonschema

from cyborg_placement.api import context as request_context
from cyborg_placement.api import errors
from cyborg_placement.api import visibility
from cyborg_placement.api.schemas import common

_FORMATS = jsonschema.FormatChecker()


def context() -> request_context.RequestContext:
    return flask.g.context


def viewer() -> visibility.Viewer:
    """What this request's caller may see, decided once per holder."""
    if 'viewer' not in flask.g:
        flask.g.viewer = visibility.Viewer(context())
    return flask.g.viewer


def app_state():
    """The database, Placement client, enforcer and config of this app."""
    return flask.current_app.extensions['cyborg']


#: A refused body up to this size is read and dropped, so the client gets
#: the 400 instead of a connection reset while it is still sending.
_DRAIN_LIMIT = 64 * 1024 * 1024


def _drain(stream) -> None:
    drained = 0
    while drained < _DRAIN_LIMIT:
        chunk = stream.read(65536)
        if not chunk:
            return
        drained += len(chunk)


def _read_body(limit: int) -> bytes:
    length = flask.request.content_length
    if length is not None and length > limit:
        if length <= _DRAIN_LIMIT:
            _drain(flask.request.stream)
        raise errors.BadRequest(
            f'Request body of {length} bytes is larger than the limit of '
            f'{limit} bytes.', errors.BODY_TOO_LARGE)
    raw = flask.request.stream.read(limit + 1)
    if len(raw) > limit:
        _drain(flask.request.stream)
        raise errors.BadRequest(
            f'Request body is larger than the limit of {limit} bytes.',
            errors.BODY_TOO_LARGE)
    return raw


def _where(path) -> str:
    path = '/'.join(str(p) for p in path)
    return f' (at /{path})' if path else ''


def _not_json(constant: str):
    raise ValueError(f'{constant} is not a JSON number')


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f'{text} is out of the range of numbers')
    return value


def _parse(raw: bytes):
    """JSON as the databases store it: no NaN/Infinity, bounded nesting."""
    try:
        return json.loads(raw, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise errors.BadRequest(
            'Malformed JSON in request body: nested too deeply.',
            errors.MALFORMED_JSON) from None
    except ValueError as exc:
        raise errors.BadRequest(f'Malformed JSON in request body: {exc}',
                                errors.MALFORMED_JSON) from None


def _check_storable(data) -> None:
    """Every string (keys too, free-form acc_specs included) is text the
    databases store, and nesting stays within MAX_DEPTH; 400 otherwise."""
    pending = [(data, ())]
    while pending:
        value, path = pending.pop()
        if len(path) > common.MAX_DEPTH:
            raise errors.BadRequest(
                f'JSON nests deeper than {common.MAX_DEPTH} levels'
                f'{_where(path)}.')
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, f'Key {key!r}', path)
                pending.append((item, (*path, key)))
        elif isinstance(value, list):
            pending.extend((item, (*path, n)) for n, item in enumerate(value))
        elif isinstance(value, str):
            _check_text(value, 'String', path)


def _check_text(value: str, what: str, path: tuple) -> None:
    problem = common.text_problem(value)
    if problem is not None:
        raise errors.BadRequest(f'{what} {problem}{_where(path)}.')


def _validate(schema: dict, value, what: str = 'JSON') -> None:
    validator = jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is not None:
        raise errors.BadRequest(f'{what} does not match the schema: '
                                f'{error.message}{_where(error.absolute_path)}')


def json_body(schema: dict) -> dict:
    """The request's JSON, validated against ``schema`` and checked to be
    storable (strings are text, numbers finite); 400 with the reason."""
    if flask.request.mimetype != 'application/json':
        raise errors.BadRequest(
            'The request body must be JSON (Content-Type: application/json).')
    data = _parse(_read_body(app_state().conf.api.max_request_body_size))
    _check_storable(data)
    _validate(schema, data)
    return data


def text_param(value: str, name: str, schema: dict) -> str:
    """A path or query parameter, checked as text and against ``schema``."""
    problem = common.text_problem(value)
    if problem is not None:
        raise errors.BadRequest(f'{name} {problem}.')
    if len(value) > schema.get('maxLength', len(value)):
        raise errors.BadRequest(
            f'{name} is longer than {schema["maxLength"]} characters.')
    _validate(schema, value, name)
    return value


def path_uuid(value: str, what: str = 'accelerator') -> str:
    """The canonical form of a uuid given in any form uuid.UUID reads."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.BadRequest(
            f'{value!r} is not a valid {what} uuid.') from None


def query_args(allowed) -> dict:
    """The query parameters, refused with a 400 naming any not ``allowed``."""
    args = flask.request.args
    unknown = set(args) - set(allowed)
    if unknown:
        raise errors.BadRequest(
            f'Unknown query parameters: {", ".join(sorted(unknown))}.')
    return args


def query_int(name: str, default: int, schema: dict) -> int:
    """An integer query parameter within its schema's bounds."""
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.BadRequest(f'{name} must be an integer, not {raw!r}.'
                                ) from None
    minimum, maximum = schema['minimum'], schema['maximum']
    if not minimum <= value <= maximum:
        raise errors.BadRequest(
            f'{name} must be between {minimum} and {maximum}.')
    return value


def json_response(payload, status: int = 200, headers: dict | None = None):
    response = flask.jsonify(payload)
    response.status_code = status
    response.headers.update(headers or {})
    return response
