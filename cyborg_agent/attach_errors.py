"""The two ways an attach or detach on the host can fail.

:class:`AttachFailed` is final: the unit cannot be attached (no such domain,
device gone, driver missing); the reconciler reports ``attach_failed`` with
the reason, which the user reads in ``GET /accelerators/{uuid}``.
:class:`NotSettled` is for failures that may go away (libvirt unreachable, a
guest that does not release a device yet): the attachment is tried again.
"""


class AttachFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotSettled(Exception):
    """Try again on the next pass; the attachment keeps its state."""
