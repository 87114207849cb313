"""Error codes and the exceptions that carry them into OpenStack error bodies.

Handlers raise one of the :class:`ApiError` subclasses with a named code; the
domain layers (the data layer, the attach flow) raise their own exceptions,
which :data:`DOMAIN_ERRORS` maps to codes. The one Flask error handler in
:mod:`.app` renders
``{"errors": [{"status", "title", "detail", "code", "request_id"}]}``.
"""
import json

from cyborg_placement.attach import exceptions as attach_exceptions
from cyborg_placement.db import exceptions as db_exceptions

INVALID_INPUT = 'api.invalid_input'
MALFORMED_JSON = 'api.malformed_json'
BODY_TOO_LARGE = 'api.body_too_large'
UNAUTHORIZED = 'api.unauthorized'
FORBIDDEN = 'api.forbidden'
NOT_FOUND = 'api.not_found'
METHOD_NOT_ALLOWED = 'api.method_not_allowed'
VERSION_NOT_ACCEPTABLE = 'api.version_not_acceptable'
INTERNAL = 'api.internal_error'
PLACEMENT_UNAVAILABLE = 'placement.unavailable'

ACCELERATOR_NOT_FOUND = 'accelerator.not_found'
DUPLICATE_NAME = 'accelerator.duplicate_name'
DUPLICATE_UUID = 'accelerator.duplicate_uuid'
RESERVED_NAME = 'accelerator.reserved_name'
REPORTED_SPEC = 'accelerator.reported_spec'
UPDATE_CONFLICT = 'accelerator.update.conflict'
ATTACH_CONFLICT = 'accelerator.attach.conflict'
ATTACH_NO_CAPACITY = 'accelerator.attach.no_capacity'
ATTACH_NO_POOL = 'accelerator.attach.no_pool'
ATTACH_WRONG_HOST = 'accelerator.attach.wrong_host'
ATTACH_VGPU_TO_HOST = 'accelerator.attach.vgpu_to_host'
ATTACH_MISSING = 'accelerator.attach.missing'
ATTACH_UNSCHEDULABLE = 'accelerator.attach.unschedulable'
ATTACH_REFUSED = 'accelerator.attach.placement_refused'
DETACH_FOREIGN = 'accelerator.detach.foreign_allocation'
BIND_NOT_ENOUGH_UNITS = 'accelerator.bind.not_enough_units'
BIND_NUMA_AFFINITY = 'accelerator.bind.numa_affinity'
POOL_NOT_IN_PLACEMENT = 'accelerator.pool.not_in_placement'
ATTACHMENT_NOT_FOUND = 'attachment.not_found'
ATTACHMENT_STATE_CONFLICT = 'attachment.state.conflict'
DEVICE_PROFILE_NOT_FOUND = 'device_profile.not_found'
DEVICE_PROFILE_DUPLICATE = 'device_profile.duplicate_name'
DEVICE_PROFILE_IN_USE = 'device_profile.in_use'
ARQ_NOT_FOUND = 'accelerator_request.not_found'
ARQ_STATE_CONFLICT = 'accelerator_request.state.conflict'
ARQ_UNKNOWN_POOL = 'accelerator_request.bind.unknown_pool'
ARQ_NOT_BINDABLE = 'accelerator_request.bind.not_enough_units'
ARQ_VFIO_VGPU = 'accelerator_request.bind.vfio_vgpu'
ATTRIBUTE_NOT_FOUND = 'attribute.not_found'
ATTRIBUTE_KEY_TAKEN = 'attribute.duplicate_key'
ATTRIBUTE_DERIVED = 'attribute.derived'


class ApiError(Exception):
    status = 500
    title = 'Internal Server Error'
    default_code = INTERNAL

    def __init__(self, detail: str, code: str | None = None,
                 headers: dict | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.headers = headers or {}


class BadRequest(ApiError):
    status, title, default_code = 400, 'Bad Request', INVALID_INPUT


class Unauthorized(ApiError):
    status, title, default_code = 401, 'Unauthorized', UNAUTHORIZED


class Forbidden(ApiError):
    status, title, default_code = 403, 'Forbidden', FORBIDDEN


class NotFound(ApiError):
    status, title, default_code = 404, 'Not Found', NOT_FOUND


class MethodNotAllowed(ApiError):
    status, title, default_code = (405, 'Method Not Allowed',
                                   METHOD_NOT_ALLOWED)


class NotAcceptable(ApiError):
    status, title, default_code = (406, 'Not Acceptable',
                                   VERSION_NOT_ACCEPTABLE)


class Conflict(ApiError):
    status, title, default_code = 409, 'Conflict', ATTACH_CONFLICT


class ServiceUnavailable(ApiError):
    status, title, default_code = (503, 'Service Unavailable',
                                   PLACEMENT_UNAVAILABLE)


def body(status: int, title: str, detail: str, code: str,
         request_id: str | None) -> dict:
    return {'errors': [{'status': status, 'title': title, 'detail': detail,
                        'code': code, 'request_id': request_id}]}


def cyborg_message(status: int, detail: str) -> str:
    """Cyborg's error field, wsme's fault encoded as a JSON string: under
    /v2 the body carries it beside ``errors``, so openstacksdk and the CLI
    show our detail (they read ``faultstring`` from it)."""
    return json.dumps({'faultcode': 'Client' if status < 500 else 'Server',
                       'faultstring': detail, 'debuginfo': None})


#: The one table from domain refusals to what the API answers.
DOMAIN_ERRORS = {
    db_exceptions.AcceleratorNotFound: (NotFound, ACCELERATOR_NOT_FOUND),
    db_exceptions.AttachmentNotFound: (NotFound, ATTACHMENT_NOT_FOUND),
    db_exceptions.DuplicateName: (Conflict, DUPLICATE_NAME),
    db_exceptions.DuplicateUuid: (Conflict, DUPLICATE_UUID),
    db_exceptions.ReservedName: (BadRequest, RESERVED_NAME),
    db_exceptions.ReportedSpec: (Conflict, REPORTED_SPEC),
    db_exceptions.StaleRevision: (Conflict, UPDATE_CONFLICT),
    db_exceptions.AlreadyAttached: (Conflict, ATTACH_CONFLICT),
    db_exceptions.InvalidTransition: (Conflict, ATTACHMENT_STATE_CONFLICT),
    attach_exceptions.NoPool: (Conflict, ATTACH_NO_POOL),
    attach_exceptions.Missing: (Conflict, ATTACH_MISSING),
    attach_exceptions.Unschedulable: (Conflict, ATTACH_UNSCHEDULABLE),
    attach_exceptions.WrongHost: (Conflict, ATTACH_WRONG_HOST),
    attach_exceptions.VgpuToHost: (Conflict, ATTACH_VGPU_TO_HOST),
    attach_exceptions.NoCapacity: (Conflict, ATTACH_NO_CAPACITY),
    attach_exceptions.PlacementRefused: (BadRequest, ATTACH_REFUSED),
    attach_exceptions.Contended: (Conflict, ATTACH_CONFLICT),
    attach_exceptions.ForeignAllocation: (Conflict, DETACH_FOREIGN),
    attach_exceptions.StateChanged: (Conflict, ATTACHMENT_STATE_CONFLICT),
    attach_exceptions.NotEnoughUnits: (Conflict, BIND_NOT_ENOUGH_UNITS),
    attach_exceptions.NumaAffinityUnmet: (Conflict, BIND_NUMA_AFFINITY),
    attach_exceptions.PoolNotInPlacement: (Conflict, POOL_NOT_IN_PLACEMENT),
    db_exceptions.DeviceProfileNotFound: (NotFound, DEVICE_PROFILE_NOT_FOUND),
    db_exceptions.DeviceProfileNameTaken: (Conflict,
                                           DEVICE_PROFILE_DUPLICATE),
    db_exceptions.DeviceProfileInUse: (Conflict, DEVICE_PROFILE_IN_USE),
    db_exceptions.AcceleratorRequestNotFound: (NotFound, ARQ_NOT_FOUND),
    db_exceptions.AcceleratorRequestChanged: (Conflict, ARQ_STATE_CONFLICT),
    attach_exceptions.UnknownPool: (BadRequest, ARQ_UNKNOWN_POOL),
    attach_exceptions.RequestsNotBindable: (Conflict, ARQ_NOT_BINDABLE),
    attach_exceptions.VfioVgpuRequest: (Conflict, ARQ_VFIO_VGPU),
    attach_exceptions.RequestStateConflict: (Conflict, ARQ_STATE_CONFLICT),
    db_exceptions.AttributeNotFound: (NotFound, ATTRIBUTE_NOT_FOUND),
    db_exceptions.AttributeKeyTaken: (Conflict, ATTRIBUTE_KEY_TAKEN),
    attach_exceptions.DerivedAttribute: (Conflict, ATTRIBUTE_DERIVED),
}


def from_domain(exc: Exception) -> ApiError | None:
    """The API error for a domain refusal; None for anything else."""
    for kind in type(exc).__mro__:
        if kind in DOMAIN_ERRORS:
            cls, code = DOMAIN_ERRORS[kind]
            return cls(str(exc), code)
    return None
