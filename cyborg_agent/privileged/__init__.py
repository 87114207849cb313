"""The agent's only privileged code: one oslo.privsep context.

The agent runs as its own user (``cyborg``); the few writes that need root go
to a daemon started through ``sudo privsep-helper`` (or rootwrap), which keeps
root's uid but drops every Linux capability except ``CAP_DAC_OVERRIDE``.
Its entry points (:mod:`cyborg_agent.privileged.pci`) take a PCI address and a
driver name, never a path: the daemon finds the tree from its own
configuration (``[agent] sysfs_root`` in the files the helper command names),
so a compromised agent cannot point it anywhere else.

Capabilities: writing a sysfs attribute (root-owned, mode 0644 or 0200) is a
file permission check only; the kernel's ``driver_override``, ``unbind`` and
``drivers_probe`` handlers check no capability (``CAP_SYS_ADMIN`` is not
needed). uid 0 passes that check as the owner; ``CAP_DAC_OVERRIDE`` keeps it
passing when ``[privsep_sysfs] user`` runs the daemon as another user. Whoever
took the daemon over would hold root's uid and that one capability: no
``CAP_SYS_ADMIN``, ``CAP_SYS_MODULE``, ``CAP_NET_ADMIN`` or ``CAP_SYS_RAWIO``.

An agent that already runs as root needs no sudo: it forks the daemon, which
drops to the same capabilities (oslo.privsep's fork method).
"""
import os

from oslo_privsep import capabilities
from oslo_privsep import daemon
from oslo_privsep import priv_context

from cyborg_placement.conf import privsep as privsep_conf

#: The ``[privsep_...]`` group of this context in cyborg.conf.
CFG_SECTION = privsep_conf.GROUP_NAME
CAPABILITIES = [capabilities.CAPS_BYNAME[name]
                for name in privsep_conf.CAPABILITIES]
#: sudo never prompts a daemon for a password: without a sudoers rule the
#: helper fails at once, and the attachment fails with that reason.
ROOT_HELPER = ['sudo', '-n']


class PrivilegedError(Exception):
    """A failure of the daemon, raised again in the agent by oslo.privsep
    from its class name and arguments: the reason is the only argument."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(PrivilegedError):
    """The privileged side will not do this (a bad address or driver)."""


class WriteFailed(PrivilegedError):
    """The kernel (or the tree) refused a write the daemon made."""


class _Context(priv_context.PrivContext):
    """Forks the daemon when the agent is root and no helper is set, so a
    root agent works without sudo; otherwise oslo.privsep's helper path,
    prefixed with :data:`ROOT_HELPER`. The prefix is set here, when the
    daemon first starts, not at the agent's start-up: this module is only
    imported by the first privileged call (:mod:`cyborg_agent.attach_errors`)."""

    def start(self, method: priv_context.Method | None = None) -> None:
        if method is None:
            method = (priv_context.Method.FORK
                      if os.geteuid() == 0 and not self.conf.helper_command
                      else priv_context.Method.ROOTWRAP)
        priv_context.init(root_helper=ROOT_HELPER)
        agent = os.getpid()
        try:
            super().start(method)
        except BaseException as exc:
            if os.getpid() != agent:
                # The forked daemon's loop ended with an error (e.g. its
                # channel broke when the agent stopped): oslo.privsep lets
                # it rise in the child, which would go on running the
                # agent's own code as a second, root agent. It stops here.
                os._exit(1)
            if isinstance(exc, OSError):  # no sudo, a helper_command that
                raise daemon.FailedToDropPrivileges(  # is not there
                    f'its command could not run: {exc}') from exc
            raise


sysfs_pctxt = _Context(
    'cyborg_agent.privileged',
    cfg_section=CFG_SECTION,
    pypath=__name__ + '.sysfs_pctxt',
    capabilities=CAPABILITIES,
)
