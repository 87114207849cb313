"""Enrichment plugins: facts sysfs does not give (memory, UUIDs, MIG mode...).

Plugins are found through stevedore in the ``cyborg_agent.discovery`` namespace,
so a vendor package can add one by declaring an entry point, without a change
here. A plugin that fails to load or to run costs its facts, never discovery.
"""
import abc

from oslo_config import cfg
from oslo_log import log as logging
from stevedore import extension

from cyborg_agent.discovery.sysfs import PciRecord

LOG = logging.getLogger(__name__)
NAMESPACE = 'cyborg_agent.discovery'


class Enricher(abc.ABC):
    """Adds facts to the records it knows about, in ``record.facts``.

    Constructed with the service configuration; ``enrich`` must not raise:
    a missing tool or a failing one is logged and leaves the records as they are.
    """

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    @abc.abstractmethod
    def enrich(self, records: list[PciRecord]) -> None:
        """Add facts to ``records`` in place."""

    def health(self, records: list[PciRecord]) -> dict[str, list[str]]:
        """PCI address -> error states the vendor's tool reports now.

        Called every publication cycle (``enrich`` only for ``cyborg-agent
        discover``), so it should be cheap. Must not raise either.
        """
        return {}


def _load_failed(manager, entrypoint, exc) -> None:
    LOG.warning('Discovery plugin %s could not be loaded: %s',
                entrypoint, exc)


def load(conf: cfg.ConfigOpts) -> list[Enricher]:
    manager = extension.ExtensionManager(
        NAMESPACE, invoke_on_load=True, invoke_args=(conf,),
        on_load_failure_callback=_load_failed)
    return [ext.obj for ext in sorted(manager, key=lambda ext: ext.name)]


def enrich(records: list[PciRecord], conf: cfg.ConfigOpts) -> None:
    """Run every plugin over ``records``; a plugin that raises is reported."""
    for plugin in load(conf):
        try:
            plugin.enrich(records)
        except Exception:
            LOG.exception('Discovery plugin %s failed; its facts are left out',
                          type(plugin).__name__)


def health(records: list[PciRecord], conf: cfg.ConfigOpts
           ) -> dict[str, list[str]]:
    """Every plugin's error states; a plugin that raises is reported."""
    found: dict[str, list[str]] = {}
    for plugin in load(conf):
        try:
            problems = plugin.health(records)
        except Exception:
            LOG.exception('Discovery plugin %s failed its health check; '
                          'its signals are left out', type(plugin).__name__)
            continue
        for address, reasons in problems.items():
            found.setdefault(address, []).extend(reasons)
    return found
