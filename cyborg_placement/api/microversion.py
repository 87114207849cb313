"""``OpenStack-API-Version: accelerator X.Y``: parse, check, answer.

Two version ranges share one service type, decided by the path: our own
API (``/accelerators``, ``/hosts``, ...) serves 1.x; the Cyborg-compatible
subset under ``/v2`` serves 2.x, the numbers Cyborg gives them, so
openstacksdk, python-cyborgclient and Nova ask for what they know.
"""
import dataclasses

import microversion_parse

from cyborg_placement.api import errors

SERVICE_TYPE = 'accelerator'
HEADER = 'OpenStack-API-Version'
#: 1.0: the endpoints of the seed spec, the device report and the host
#: reconciler's calls.
VERSIONS = ('1.0',)
#: Under ``/v2``, as Cyborg: 2.0 device profiles, accelerator requests,
#: devices and deployables; 2.1 ``project_id`` in ARQ PATCH (accepted);
#: 2.2 a device profile shown by name as well as by uuid; 2.3 ``status`` of
#: devices.
V2_VERSIONS = ('2.0', '2.1', '2.2', '2.3')
V2_PREFIX = '/v2'


@dataclasses.dataclass(frozen=True)
class Range:
    """The versions one part of the API serves."""

    min: microversion_parse.Version
    max: microversion_parse.Version

    @classmethod
    def of(cls, versions: tuple[str, ...]) -> 'Range':
        return cls(microversion_parse.parse_version_string(versions[0]),
                   microversion_parse.parse_version_string(versions[-1]))


V1 = Range.of(VERSIONS)
V2 = Range.of(V2_VERSIONS)
MIN_VERSION, MAX_VERSION = V1.min, V1.max


def range_for(path: str) -> Range:
    """The versions the API at ``path`` serves."""
    if path == V2_PREFIX or path.startswith(V2_PREFIX + '/'):
        return V2
    return V1


def negotiate(headers, served: Range = V1) -> microversion_parse.Version:
    """The version a request asks for; the minimum when it names none."""
    requested = microversion_parse.get_version(headers, SERVICE_TYPE)
    if requested is None:
        return served.min
    if requested == 'latest':
        return served.max
    try:
        version = microversion_parse.parse_version_string(requested)
    except TypeError:
        raise errors.BadRequest(
            f'Invalid {HEADER} value {requested!r}: expected '
            f'"{SERVICE_TYPE} X.Y".') from None
    if not served.min <= version <= served.max:
        raise errors.NotAcceptable(
            f'Version {requested} is not supported; this API serves '
            f'{served.min} to {served.max}.')
    return version


def header_value(version) -> str:
    return f'{SERVICE_TYPE} {version}'
