"""The two ways an attach or detach on the host can fail.

:class:`AttachFailed` is final: the unit cannot be attached (no such domain,
device gone, driver missing); the reconciler reports ``attach_failed`` with
the reason, which the user reads in ``GET /accelerators/{uuid}``.
:class:`NotSettled` is for failures that may go away (libvirt unreachable, a
guest that does not release a device yet): the attachment is tried again.
:func:`privileged_call` sorts the privileged daemon's failures into the two.
"""
import importlib
import typing


class AttachFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotSettled(Exception):
    """Try again on the next pass; the attachment keeps its state."""


def privileged_call(entry_points: str | typing.Any, name: str,
                    *args: str) -> typing.Any:
    """One write through the privileged daemon, what it returns, and its
    failures as the reconciler's: a refusal or a refused write is final for
    the attachment; a daemon that cannot start is too (its reason says what
    to configure); a daemon that died during the call is tried again on the
    next pass, which starts a new one.

    ``entry_points``: the daemon's module under :mod:`cyborg_agent.privileged`
    by name (``pci``, ``vgpu``), or an object with its functions (a test's
    tree). The privileged code is imported here, at the first call, not
    when the agent starts: oslo.privsep imports eventlet when it is
    installed, which was a third of every agent's start-up, and a cycle
    that binds nothing needs none of it.
    """
    from oslo_privsep import daemon as privsep_daemon

    from cyborg_agent import privileged
    if isinstance(entry_points, str):
        entry_points = importlib.import_module(
            f'{privileged.__name__}.{entry_points}')
    try:
        return getattr(entry_points, name)(*args)
    except privileged.PrivilegedError as exc:
        raise AttachFailed(exc.reason) from exc
    except privsep_daemon.FailedToDropPrivileges as exc:
        raise AttachFailed(
            f'The privileged helper (oslo.privsep, [{privileged.CFG_SECTION}]'
            f') did not start: {exc}. Check its helper_command and the '
            'sudoers rule for privsep-helper.') from exc
    except OSError as exc:
        raise NotSettled(f'The privileged helper stopped during {name}: '
                         f'{exc}') from exc
