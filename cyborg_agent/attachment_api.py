"""The reconciler's two service calls to the accelerator API.

``GET /hosts/{host}/attachments?changes_since=N`` (what changed on this host
since revision N) and ``PUT /attachments/{uuid}/state`` (the result on the
host). An unreachable API or a 5xx is ``api_client.ApiUnreachable`` (try again
later); a 4xx is ``api_client.ApiRefused`` with the API's own detail.
"""
from keystoneauth1 import adapter as ks_adapter

from cyborg_agent import api_client
from cyborg_agent import report

#: The feed's own maximum page.
PAGE_SIZE = 1000


class AttachmentApi:
    def __init__(self, adapter: ks_adapter.Adapter) -> None:
        self.adapter = adapter
        #: The host's disabled and held units as the feed last said
        #: (``{"disabled": [...], "held": [...]}``); None before a read.
        self.host_units: dict | None = None
        #: The digest of the host's last device report the API accepted,
        #: as the feed last said (None: none); ``report.UNKNOWN`` before.
        self.report_digest: str | None = report.UNKNOWN

    def _call(self, method: str, url: str, **kwargs) -> dict:
        return api_client.call(self.adapter, method, url, **kwargs)

    def changes(self, host: str, since: int) -> tuple[list[dict], int]:
        """Every attachment of ``host`` changed after ``since``, and the
        revision to ask from next time; a full page means there is more."""
        found = []
        while True:
            page = self._call('GET', f'/hosts/{host}/attachments',
                              params={'changes_since': since,
                                      'limit': PAGE_SIZE})
            found += page['attachments']
            since = page['revision']
            self.host_units = page.get('units')
            self.report_digest = page.get('report_digest', report.UNKNOWN)
            if len(page['attachments']) < PAGE_SIZE:
                return found, since

    def report(self, uuid: str, state: str, reason: str | None = None
               ) -> dict:
        body = {'state': state}
        if reason:
            body['reason'] = reason[:1024]
        return self._call('PUT', f'/attachments/{uuid}/state', json=body)

    def units(self, host: str) -> dict:
        """The host's disabled and held units, without its changes (the
        feed asked for changes after the last possible revision)."""
        self.changes(host, 2**31 - 1)
        return self.host_units or {}
