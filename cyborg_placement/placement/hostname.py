"""The name of this host's compute-node provider, as Nova would choose it."""
import socket

from oslo_config import cfg


def libvirt_hostname() -> str:
    """The host name libvirt reports (``virConnectGetHostname``).

    Nova's libvirt driver names the compute-node provider after it. libvirt
    returns ``gethostname()`` when it is fully qualified, otherwise the canonical
    name from the resolver, falling back to the short name. Computing it the
    same way needs no libvirt connection on hosts that publish without Nova.
    """
    name = socket.gethostname()
    if '.' in name or name.startswith('localhost'):
        return name
    try:
        info = socket.getaddrinfo(name, None, flags=socket.AI_CANONNAME)
    except OSError:
        return name
    return next((entry[3] for entry in info if entry[3]), name)


def root_provider_name(conf: cfg.ConfigOpts) -> str:
    return conf.agent.resource_provider_name or libvirt_hostname()
