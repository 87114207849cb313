"""The agent's device report: its host's units, in one bulk request.

Each unit names the pool provider it is counted in, read from the tree the
Placement sync has just published, so the API claims from that very pool.
A report that says what the last accepted one said is not sent again, as
long as the API says (in the host's feed) that it still holds it (see
:class:`ReportSender`): in steady state a host costs the API nothing.
"""
from collections.abc import Iterable
import time

from keystoneauth1 import adapter as ks_adapter

from cyborg_agent import api_client
from cyborg_agent import saved_state
from cyborg_agent.publish import tree
from cyborg_placement import vocabulary
from cyborg_placement.vocabulary import Unit

#: The fields of a vGPU unit (:class:`Unit`), in its entry as named there.
VGPU_FIELDS = ('vgpu_interface', 'vgpu_type', 'vgpu_profile',
               'parent_address', 'mdev_uuid')


def unit_entry(unit: Unit, pool: tree.PoolProvider) -> dict:
    """One unit of the report; a vGPU unit's entry adds its
    :data:`VGPU_FIELDS` (a whole device's leaves them out: null)."""
    entry = {
        'pci_address': unit.address.lower(),
        'vendor_id': unit.vendor_id.lower(),
        'product_id': unit.product_id.lower(),
        'device_type': unit.device_type,
        'pool_provider_uuid': pool.uuid,
        'resource_class': pool.resource_class,
        'numa_node': unit.numa_node,
        'socket': unit.socket,
        'driver': unit.driver,
        'health': 'healthy' if unit.healthy else 'unhealthy',
        'health_reason': unit.health_reason,
    }
    if unit.vgpu_profile is not None:
        entry.update((name, getattr(unit, name)) for name in VGPU_FIELDS)
    return entry


def build_report(units: Iterable[Unit],
                 published: dict[str, tree.PoolProvider]) -> dict:
    """The body of ``PUT /hosts/{host}/accelerators``.

    ``published`` is the tree the sync returned for these units.
    """
    pools = tree.provider_of_units(published)
    return {'accelerators': [unit_entry(u, pools[u.key])
                             for u in sorted(units, key=_order)]}


def _order(unit: Unit) -> tuple[str, str]:
    return (unit.address, unit.vgpu_type or '')


def send_report(adapter: ks_adapter.Adapter, host: str, report: dict
                ) -> list[dict]:
    """Send the report; return the host's accelerators as the API keeps them.

    Failures are ``api_client.ApiUnreachable`` or ``ApiRefused``.
    """
    return api_client.call(adapter, 'PUT', f'/hosts/{host}/accelerators',
                           json=report)['accelerators']


#: What the API holds of this host's report before the feed says it (or
#: from an API too old to say): no digest is this string.
UNKNOWN = 'unknown'


class ReportSender:
    """Sends the device report when it says something new.

    The API keeps what the last accepted report said; sending the same list
    again changes nothing there but costs a request and a read of the host's
    rows, per host and cycle. The digest of the last accepted report is kept
    (in ``saved`` too, so a restart does not resend it). An unchanged report
    is sent at once when the API says it holds another one (an API on a new
    database, or one restored from a backup), and once ``resend_after``
    seconds have passed since the last one was accepted: the API's records
    may have changed meanwhile without its report changing (an admin's
    ``acc_specs`` over a reported field), and this bounds for how long.
    ``resend_after`` 0 sends every report.
    """

    def __init__(self, adapter: ks_adapter.Adapter, host: str,
                 resend_after: int,
                 saved: saved_state.StateFile | None = None) -> None:
        self.adapter = adapter
        self.host = host
        self.resend_after = resend_after
        self._saved = saved
        self._last: dict | None = None
        #: Whether the last ``send`` sent the report (``None``: no call yet).
        self.sent: bool | None = None
        if saved is not None:
            self._last = self._load(saved.read())

    def _load(self, document: dict | None) -> dict | None:
        if document is None:
            return None
        if (document.get('host') != self.host
                or not isinstance(document.get('digest'), str)
                or not isinstance(document.get('sent_at'), (int, float))):
            self._saved.ignore('not a device report record of this host')
            return None
        return document

    @property
    def digest(self) -> str | None:
        """The digest of the last report the API accepted from us."""
        return None if self._last is None else self._last['digest']

    def send(self, report: dict, api_holds: str | None = UNKNOWN) -> bool:
        """Send ``report`` unless it is the last accepted one and the API
        still holds it; whether sent.

        ``api_holds`` is the digest of the report the API says it holds for
        this host (the feed's ``report_digest``; None: none, as on a new
        database), or :data:`UNKNOWN`. Failures are
        ``api_client.ApiUnreachable`` or ``ApiRefused``, and leave the last
        accepted report as it was.
        """
        new = vocabulary.report_digest(report)
        now = time.time()
        last = self._last
        self.sent = api_holds not in (UNKNOWN, new) or not (
            self.resend_after and last is not None and last['digest'] == new
            and 0 <= now - last['sent_at'] < self.resend_after)
        if self.sent:
            send_report(self.adapter, self.host, report)
            self._last = {'host': self.host, 'digest': new, 'sent_at': now}
            if self._saved is not None:
                self._saved.write(self._last)
        return self.sent
