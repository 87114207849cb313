"""Request helpers every handler uses: the context, JSON bodies, paths."""
import json
import uuid

import flask
import jsonschema

from cyborg_placement.api import context as request_context
from cyborg_placement.api import errors

_FORMATS = jsonschema.FormatChecker()


def context() -> request_context.RequestContext:
    return flask.g.context


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


def _where(error: jsonschema.ValidationError) -> str:
    path = '/'.join(str(p) for p in error.absolute_path)
    return f' (at /{path})' if path else ''


def json_body(schema: dict) -> dict:
    """The request's JSON, validated against ``schema``; 400 with the reason."""
    if flask.request.mimetype != 'application/json':
        raise errors.BadRequest(
            'The request body must be JSON (Content-Type: application/json).')
    raw = _read_body(app_state().conf.api.max_request_body_size)
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise errors.BadRequest(f'Malformed JSON in request body: {exc}',
                                errors.MALFORMED_JSON) from None
    validator = jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise errors.BadRequest(
            f'JSON does not match the schema: {error.message}{_where(error)}')
    return data


def path_uuid(value: str, what: str = 'accelerator') -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.BadRequest(
            f'{value!r} is not a valid {what} uuid.') from None


def query_int(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.BadRequest(f'{name} must be an integer, not {raw!r}.'
                                ) from None
    if not minimum <= value <= maximum:
        raise errors.BadRequest(
            f'{name} must be between {minimum} and {maximum}.')
    return value


def json_response(payload, status: int = 200, headers: dict | None = None):
    response = flask.jsonify(payload)
    response.status_code = status
    response.headers.update(headers or {})
    return response
