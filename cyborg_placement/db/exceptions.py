"""What the data layer refuses; the API turns each into an error code."""


class DBError(Exception):
    """Base of the data layer's refusals; the message is shown to users."""


class AcceleratorNotFound(DBError):
    pass


class AttachmentNotFound(DBError):
    pass


class DuplicateName(DBError):
    pass


class DuplicateUuid(DBError):
    pass


class ReservedName(DBError):
    """The name has the form the device report gives its units."""


class ReportedSpec(DBError):
    """acc_specs would change what a unit's device report says of it."""


class StaleRevision(DBError):
    """``If-Match`` named a revision that is no longer the current one."""


class AlreadyAttached(DBError):
    """Another attachment holds the accelerator (the unique index said so)."""


class InvalidTransition(DBError):
    """An attachment state report that does not follow from its state."""


class DeviceProfileNotFound(DBError):
    pass


class DeviceProfileNameTaken(DBError):
    pass


class DeviceProfileInUse(DBError):
    """Accelerator requests were made from the profile and still exist."""


class AcceleratorRequestNotFound(DBError):
    pass


class AcceleratorRequestChanged(DBError):
    """An accelerator request was bound, unbound or deleted meanwhile."""


class AttributeNotFound(DBError):
    pass


class AttributeKeyTaken(DBError):
    """The unit has an attribute of this key already."""
