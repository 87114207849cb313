"""What a refused OpenStack call says: its error body, read once for all.

The accelerator API (``api/errors.py``) and Placement answer a refusal with
``{"errors": [{"status", "title", "detail", "code", "request_id"}]}``. The
CLI, the agent, the Placement client and the Nova driver all show the first
error's ``detail`` to a person, so they read it here. Imports nothing but the
standard library: the Nova driver loads it inside nova-compute.
"""
import datetime
import email.utils
import typing

#: How much of a body that is not an error body is worth showing.
TEXT_LIMIT = 500


class Response(typing.Protocol):
    """What this reads of a ``requests`` (keystoneauth) response."""

    text: str
    reason: str | None

    def json(self) -> typing.Any: ...


def detail_and_code(response: Response) -> tuple[str, str | None]:
    """The first error's ``detail`` and ``code``.

    A body of another shape (a proxy's HTML page, an empty body) gives its
    text, or the HTTP reason, and no code.
    """
    try:
        first = response.json()['errors'][0]
        return str(first['detail']), first.get('code')
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return (response.text or '')[:TEXT_LIMIT] or response.reason or '', None


def retry_after(headers: typing.Mapping[str, str]) -> float | None:
    """Seconds a ``Retry-After`` header asks the caller to wait, if any.

    The header is either a number of seconds or an HTTP date; anything else
    (or a date in the past) is no request at all.
    """
    value = (headers.get('Retry-After') or '').strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    wait = (when - datetime.datetime.now(datetime.UTC)).total_seconds()
    return wait if wait > 0 else None
