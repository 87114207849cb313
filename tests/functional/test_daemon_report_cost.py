"""What the device report of the real ``cyborg-agent --once`` costs the real
API (SQLite and PostgreSQL), counted at a proxy in front of it: a host whose
units did not change sends no report, also after a restart; a change, a
corrupt saved digest or ``unchanged_report_interval`` passing sends it."""
import json
import pathlib

import pytest

from tests.functional.compute_nodes import create_compute_node
from tests.functional.test_daemon import _once
from tests.functional.test_daemon import _sysfs
from tools.harness import catalog
from tools.harness import ini
from tools.harness.api_server import ApiServer
from tools.harness.counting_proxy import CountingProxy


@pytest.fixture
def api_proxy(api_server):
    proxy = CountingProxy(api_server.url).start()
    yield proxy
    proxy.stop()


class Host:
    """A compute node whose agent runs ``--once`` against the proxied API."""

    def __init__(self, placement_url: str, api_url: str,
                 directory: pathlib.Path, name: str, **agent) -> None:
        self.directory = directory
        self.name = name
        self.sysfs = directory / 'sys-current'
        self.sysfs.symlink_to(_sysfs(directory, catalog.gpu_server()))
        self.sections = {
            'DEFAULT': {'debug': 'true'},
            'placement': ini.token_auth(placement_url),
            'agent': {'resource_provider_name': name,
                      'state_dir': directory / 'state',
                      'sysfs_root': self.sysfs, **agent}}
        self.use_api(api_url)

    def use_api(self, api_url: str) -> None:
        """Point the agent at the accelerator API at ``api_url``."""
        self.sections['accelerator_api'] = ini.token_auth(api_url)
        self.conf = ini.write(self.directory / 'cyborg.conf', self.sections)

    def once(self) -> str:
        result = _once(self.conf)
        assert result.returncode == 0, result.stderr
        return result.stderr

    def devices(self, functions) -> None:
        self.sysfs.unlink()
        self.sysfs.symlink_to(_sysfs(self.directory, functions))

    @property
    def saved_report(self) -> pathlib.Path:
        return (self.directory / 'state' / 'published' /
                f'report-{self.name}.json')


@pytest.fixture
def make_host(placement, placement_server, api_proxy, tmp_path, unique_name):
    def make(**agent) -> Host:
        create_compute_node(placement, unique_name)
        host = Host(placement_server.url, api_proxy.url, tmp_path,
                    unique_name, **agent)
        host.once()
        api_proxy.clear()
        return host
    return make


def _reports(proxy) -> int:
    return sum(1 for method, path in proxy.seen
               if (method, path.split('?')[0].rsplit('/', 1)[-1]) == (
                   'PUT', 'accelerators'))


def test_an_unchanged_host_sends_no_report_even_after_a_restart(
        api_proxy, make_host, admin):
    host = make_host()
    log = host.once()
    assert 'device report: unchanged, not sent' in log
    # What is left for the API: the host's feed, read by the new process
    # for its disabled and held units before it publishes, then by its
    # reconcile pass (which the publication comes before, so that a unit
    # whose attach fails for being gone keeps its record and reason).
    assert [m for m, _ in api_proxy.seen] == ['GET', 'GET']
    assert _reports(api_proxy) == 0

    host.devices(catalog.gpu_server(gpus=4))
    assert 'device report: sent' in host.once()
    assert _reports(api_proxy) == 1
    listed = admin.get('/accelerators',
                              params={'host': host.name}).json()
    assert len(listed['accelerator']) == 4 + 2 * 16  # GPUs and QAT VFs


def test_a_corrupt_saved_digest_or_an_old_one_sends_the_report(
        api_proxy, make_host):
    host = make_host()
    host.saved_report.write_text('{"host": 1}')
    assert 'Ignoring saved state' in host.once()
    assert _reports(api_proxy) == 1

    saved = json.loads(host.saved_report.read_text())
    saved['sent_at'] -= 600  # unchanged_report_interval ago
    host.saved_report.write_text(json.dumps(saved))
    host.once()
    assert _reports(api_proxy) == 2
    host.once()
    assert _reports(api_proxy) == 2


def test_unchanged_report_interval_0_sends_every_report(api_proxy,
                                                        make_host):
    host = make_host(unchanged_report_interval=0)
    host.once()
    host.once()
    assert _reports(api_proxy) == 2


def test_an_api_on_a_new_database_gets_the_report_at_once(
        make_host, admin, placement_server, tmp_path_factory):
    """The agent saved the digest of the report the session's API
    accepted; an API on a new database (or one restored from a backup)
    says in the feed that it holds another (none), so the report goes at
    once, not after unchanged_report_interval. Then nothing is sent."""
    host = make_host()
    before = admin.get('/accelerators', params={'host': host.name}).json()
    fresh = ApiServer.on_sqlite(tmp_path_factory.mktemp('new-api'),
                                placement_server.url)
    fresh.start()
    try:
        host.use_api(fresh.url)
        assert 'device report: sent' in host.once()
        listed = fresh.client().get('/accelerators',
                                    params={'host': host.name}).json()
        assert sorted(a['pci_address'] for a in listed['accelerator']) == \
            sorted(a['pci_address'] for a in before['accelerator'])
        assert 'device report: unchanged, not sent' in host.once()
    finally:
        fresh.stop()
