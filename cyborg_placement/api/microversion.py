"""``OpenStack-API-Version: accelerator X.Y``: parse, check, answer."""
import microversion_parse

from cyborg_placement.api import errors

SERVICE_TYPE = 'accelerator'
HEADER = 'OpenStack-API-Version'
#: 1.0: the endpoints of the seed spec, the device report and the host
#: reconciler's calls.
VERSIONS = ('1.0',)
MIN_VERSION = microversion_parse.parse_version_string(VERSIONS[0])
MAX_VERSION = microversion_parse.parse_version_string(VERSIONS[-1])


def negotiate(headers) -> microversion_parse.Version:
    """The version a request asks for; the minimum when it names none."""
    requested = microversion_parse.get_version(headers, SERVICE_TYPE)
    if requested is None:
        return MIN_VERSION
    if requested == 'latest':
        return MAX_VERSION
    try:
        version = microversion_parse.parse_version_string(requested)
    except TypeError:
        raise errors.BadRequest(
            f'Invalid {HEADER} value {requested!r}: expected '
            f'"{SERVICE_TYPE} X.Y".') from None
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise errors.NotAcceptable(
            f'Version {requested} is not supported; this API serves '
            f'{MIN_VERSION} to {MAX_VERSION}.')
    return version


def header_value(version) -> str:
    return f'{SERVICE_TYPE} {version}'
