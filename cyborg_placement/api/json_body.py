"""Response bodies written by orjson, Flask's ``app.json`` provider.

A page of 1,000 accelerators is 700 KB of JSON: the standard library's
encoder took 4 ms of it, a sixth of the request, where orjson takes 0.4 ms
(docs/benchmarks-api.md). What orjson cannot write, the standard encoder
does, so every body stays what Flask's own provider would answer:

- a string holding a lone surrogate (bad input quoted in an error message;
  JSON can carry one as ``"\\udbe8"``, UTF-8 cannot);
- what only Flask's ``default`` knows, or a key that is not a string.

Dates keep Flask's form (orjson would write ISO 8601): our views give
times as strings, but a date that reached a body would read the same as
before. Requests are still read by the standard library, which takes
every JSON text the API documents.
"""
import typing

import flask
from flask.json import provider
import orjson

#: Dates and dataclasses go to Flask's ``default``, as with its provider.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonProvider(provider.DefaultJSONProvider):
    """Flask's provider, writing response bodies with orjson."""

    sort_keys = False

    def response(self, *args: typing.Any, **kwargs: typing.Any
                 ) -> flask.Response:
        body = self._prepare_response_obj(args, kwargs)
        try:
            text = orjson.dumps(body, default=self.default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError is one
            text = self.dumps(body, separators=(',', ':')).encode()
        return self._app.response_class(text + b'\n', mimetype=self.mimetype)
