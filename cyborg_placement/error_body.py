"""What a refused OpenStack call says: its error body, read once for all.

The accelerator API (``api/errors.py``) and Placement answer a refusal with
``{"errors": [{"status", "title", "detail", "code", "request_id"}]}``. The
CLI, the agent, the Placement client and the Nova driver all show the first
error's ``detail`` to a person, so they read it here. Imports nothing but the
standard library: the Nova driver loads it inside nova-compute.
"""
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
