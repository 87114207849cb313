"""Nova's own services (API, conductor, scheduler, compute) on the real
Placement and the real ``cyborg-api``, for booting servers: with our driver
(:class:`AcceleratorServicesTestBase`) or stock Nova and its Cyborg client
(:class:`StockNovaServicesTestBase`).

Nova's functional test harness (``nova.tests``, shipped in the nova wheel)
runs nova-api (through wsgi-intercept), conductor, scheduler and compute
services in one process, on Nova's fake libvirt. What this module changes:

- **Placement**: Nova's ``PlacementFixture`` runs Placement in-process, where
  our agent and API, separate processes, cannot reach it. The same fixture
  without its database and intercept, pointed at a real Placement server
  (``[placement]`` of the agent and the API point there too), makes every
  service see one Placement.
- **compute**: ``compute_driver = accelerator_libvirt.LibvirtAcceleratorDriver``
  through the alias ``nova-compute-accelerator`` installs, with
  ``[accelerator_api]`` on the API server (noauth token); or, for stock
  Nova, the unmodified ``libvirt.LibvirtDriver`` with ``[cyborg]`` on the
  API server's ``/v2``.
- **accelerators**: once nova-compute created its compute-node provider, the
  real ``cyborg-agent --once`` publishes the host's GPUs under it (a sysfs
  tree of real H100 ids) and reports them to the API.
- **api-paste.ini**: the wheel installs it under ``<prefix>/etc/nova``, not
  where Nova's test configuration looks (next to the package).

Nova's options and this project's share oslo.config's global ``CONF``, so
this runs in a process of its own: :func:`main` runs the scenario cases and
writes one outcome per case to a JSON file, which
tests/functional/nova_cases.py reads (for test_nova_boot.py and
test_nova_stock.py). The servers are given by the
environment (:data:`PLACEMENT_URL`, :data:`API_URL`, :data:`WORKDIR`).
"""
# First, as in Nova's own test package: eventlet's patching must come before
# anything imports oslo.db, whose enginefacade keeps each transaction in a
# threading.local made at import. Made before the patch, that local is the
# OS thread's, shared by every green thread: two of them on one request
# context then fail with "Can't upgrade a READER transaction to a WRITER".
from nova import monkey_patch

monkey_patch.patch()

# isort: split
import json
import os
import pathlib
import shutil
import sys
import sysconfig
import types
import unittest
import uuid
import warnings

import fixtures
from keystoneauth1 import loading as ks_loading
from nova import conf as nova_conf
from nova.api import auth as nova_auth
from nova.tests.functional import fixtures as func_fixtures
from nova.tests.functional.api import client as nova_client
from nova.tests.functional.libvirt import base
from openstack import service_description
import requests
from sqlalchemy import exc as sa_exc

from nova_ext import conf as ext_conf
from nova_ext.cmd import compute as ext_compute
from tools.harness import catalog
from tools.harness import ini
from tools.harness import sysfs_tree
from tools.harness import vgpu_manager
from tools.harness.guest_xml import hostdev_sources
from tools.harness.launcher import LAUNCHER

CONF = nova_conf.CONF
PLACEMENT_URL = 'CYBORG_NOVA_PLACEMENT_URL'
API_URL = 'CYBORG_NOVA_API_URL'
WORKDIR = 'CYBORG_NOVA_WORKDIR'
AGENT = str(pathlib.Path(sys.executable).parent / 'cyborg-agent')
#: Four H100 SXM on one NUMA node: one pool of 4 PGPU.
GPUS = ('0000:18:00.0', '0000:28:00.0', '0000:38:00.0', '0000:48:00.0')
H100_TRAIT = 'CUSTOM_ACCEL_PRODUCT_10DE_2330'
#: openstacksdk's proxy maker, as imported: Nova's OpenStackSDKFixture
#: replaces it in every Nova test.
SDK_MAKE_PROXY = service_description.ServiceDescription._make_proxy
#: Tokens for the API, when it runs behind Keystone: a user's (a member
#: of a project), which every request to Nova carries and Nova passes on
#: to Cyborg, and an admin's, for the agent and the cases' own reads.
#: Without them (noauth) both are the token the API takes for an admin.
USER_TOKEN = 'CYBORG_NOVA_USER_TOKEN'
ADMIN_TOKEN = 'CYBORG_NOVA_ADMIN_TOKEN'


def token(name: str) -> str:
    """:data:`USER_TOKEN` or :data:`ADMIN_TOKEN` from the environment."""
    return os.environ.get(name, 'admin')


def admin_headers() -> dict[str, str]:
    return {'X-Auth-Token': token(ADMIN_TOKEN)}


class RemotePlacementFixture(func_fixtures.PlacementFixture):
    """Nova's Placement fixture on a real Placement server over HTTP: the
    report client's calls and ``self.placement`` go to ``$PLACEMENT_URL``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(db=False, use_intercept=False)

    def _configure_placement(self, conf_fixture) -> None:
        # Required by the fixture's option check; nothing opens it.
        conf_fixture.config(group='placement_database', connection='sqlite://')

    def setUp(self) -> None:
        super().setUp()
        self.endpoint = os.environ[PLACEMENT_URL]


class NovaServicesTestBase(base.ServersTestBase):
    """Nova's libvirt functional base on the real Placement, with the
    host's GPUs published by the real agent: what both ways of giving Nova
    accelerators (our driver, or stock Nova's Cyborg client) share."""

    ADMIN_API = True
    microversion = 'latest'

    def setUp(self) -> None:
        # The module integrated_helpers takes the fixture from, not the
        # fixture's own module: Nova's fixture names its class in super().
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.functional.integrated_helpers.func_fixtures',
            types.SimpleNamespace(PlacementFixture=RemotePlacementFixture)))
        self.workdir = pathlib.Path(os.environ[WORKDIR]) / uuid.uuid4().hex
        super().setUp()
        # Nova's WarningsFixture makes SQLAlchemy's deprecations errors; the
        # installed SQLAlchemy 2.1 deprecates noload(), which Nova's DB API
        # still uses on stop/start.
        warnings.filterwarnings(
            'ignore', message=r'The noload\(\) option is deprecated',
            category=sa_exc.SADeprecationWarning)

    def _setup_services(self) -> None:
        self.flags(group='wsgi', api_paste_config=str(
            pathlib.Path(sysconfig.get_path('data'), 'etc', 'nova',
                         'api-paste.ini')))
        super()._setup_services()

    def start_gpu_compute(self, gpus=GPUS, host_info=None) -> str:
        """A nova-compute with the configured driver on a host with ``gpus``
        (H100s), published by the agent under its compute-node provider.
        ``gpus`` are PCI addresses (all on NUMA node 0), or a mapping of
        each to its NUMA node; ``host_info`` is the fake libvirt's host
        (a ``fakelibvirt.HostInfo``; Nova's default without).

        Host names are unique: the Placement server outlives the case.
        """
        hostname = f'cn-{uuid.uuid4().hex[:8]}'
        self.start_compute(hostname, host_info=host_info)
        self.run_agent(hostname, gpus)
        return hostname

    def run_agent(self, hostname: str, gpus=GPUS, functions=None,
                  rules: tuple[str, ...] = (),
                  tree: sysfs_tree.SysfsTree | None = None) -> None:
        """``cyborg-agent --once`` for the host: (re)publish ``gpus``
        (H100s: addresses, or a dict of address to NUMA node), or the PCI
        ``functions`` given, or what ``tree`` holds (kept as it is), with
        ``[agent] device_rule`` values ``rules``.

        A new tree's NUMA nodes, their CPUs and sockets are those of the
        host's fake libvirt, as the kernel and libvirt agree on a real
        host: the agent reads a unit's socket from there.
        """
        workdir = self.workdir / hostname
        if tree is None:
            # A new tree each run: the host's devices are what ``gpus`` says.
            shutil.rmtree(workdir / 'sys', ignore_errors=True)
            nodes = gpus if isinstance(gpus, dict) else dict.fromkeys(gpus, 0)
            tree = sysfs_tree.build(workdir / 'sys', functions or [
                catalog.nvidia_h100_sxm(address, node, 100 + index)
                for index, (address, node) in enumerate(nodes.items())])
            for cell in self.host_cells(hostname):
                tree.add_node(cell.id, [cpu.id for cpu in cell.cpus],
                              cell.cpus[0].socket_id)
            tree.driver_dir('vfio-pci')
        conf_file = workdir / 'cyborg-agent.conf'
        agent = {'sysfs_root': tree.root, 'resource_provider_name': hostname,
                 'state_dir': workdir / 'state',
                 'libvirt_uri': 'test:///default'}
        if rules:
            agent['device_rule'] = list(rules)
        ini.write(conf_file, {
            'placement': ini.token_auth(os.environ[PLACEMENT_URL]),
            'accelerator_api': ini.token_auth(os.environ[API_URL],
                                              token(ADMIN_TOKEN)),
            'agent': agent})
        done = LAUNCHER.run(
            [AGENT, '--config-file', str(conf_file), '--once'], timeout=120)
        self.assertEqual(0, done.returncode, done.stderr)

    def host_cells(self, hostname: str) -> list:
        """The NUMA cells of the host's fake libvirt (libvirt's
        capabilities: each cell's CPUs, with their socket ids)."""
        caps = self.computes[hostname].driver._host.get_capabilities()
        return caps.host.topology.cells if caps.host.topology else []

    def host_units(self, hostname: str) -> list[dict]:
        """The host's units as ``GET /accelerators`` shows them."""
        answer = requests.get(
            f'{os.environ[API_URL]}/accelerators', params={'host': hostname},
            headers=admin_headers(), timeout=30)
        self.assertEqual(200, answer.status_code, answer.text)
        return answer.json()['accelerator']

    def report_only(self, hostname: str, addresses) -> None:
        """The host's device report with only the units at ``addresses``:
        the API's view loses the others (``missing``) while Placement still
        offers the whole pool, as when devices vanish between the agent's
        passes."""
        kept = [r for r in self.host_units(hostname)
                if r['pci_address'] in addresses]
        answer = requests.put(
            f'{os.environ[API_URL]}/hosts/{hostname}/accelerators',
            headers=admin_headers(), timeout=30, json={
                'accelerators': [{
                    'pci_address': r['pci_address'],
                    'vendor_id': r['acc_specs']['vendor_id'],
                    'product_id': r['acc_specs']['product_id'],
                    'device_type': r['acc_specs']['device_type'],
                    'pool_provider_uuid': r['pool_provider_uuid'],
                    'resource_class': r['resource_class'],
                    'numa_node': r['numa_node'],
                    'driver': r['driver']} for r in kept]})
        self.assertEqual(200, answer.status_code, answer.text)

    def boot(self, flavor: str, expected_state: str = 'ACTIVE',
             host: str | None = None) -> dict:
        return self._create_server(flavor_id=flavor, networks='none',
                                   host=host, expected_state=expected_state)

    def guest_hostdevs(self, server: dict, hostname: str | None = None
                       ) -> list[str]:
        """PCI hostdev sources of the server's libvirt domain, as
        DDDD:BB:SS.F, from the fake libvirt of the host it is on."""
        hostname = hostname or self._show_server(server)[
            'OS-EXT-SRV-ATTR:host']
        conn = self.computes[hostname].driver._host.get_connection()
        return hostdev_sources(conn.lookupByUUIDString(server['id']).XMLDesc(0))

    def pgpu_allocations(self, consumer: str) -> dict[str, int]:
        """PGPU the consumer holds in Placement, by provider name."""
        allocations = self.placement.get(
            f'/allocations/{consumer}').body['allocations']
        held = {}
        for rp_uuid, allocation in allocations.items():
            if 'PGPU' in allocation['resources']:
                name = self.placement.get(
                    f'/resource_providers/{rp_uuid}').body['name']
                held[name] = allocation['resources']['PGPU']
        return held


class AcceleratorServicesTestBase(NovaServicesTestBase):
    """Nova with our driver: ``LibvirtAcceleratorDriver`` binding through
    the API's ``/instances/{uuid}/bindings``."""

    def setUp(self) -> None:
        self.skip_without_bindings_endpoint()
        super().setUp()
        ext_compute.install_driver_alias()
        # Imported for its [accelerator_api] options. Their defaults are
        # set again for each case: Nova's ConfFixture clears every default
        # when a case ends, and one process runs many cases.
        import nova_ext.virt.libvirt.driver  # noqa: F401
        ext_conf.register_opts(CONF)
        CONF.register_opts(
            ks_loading.get_auth_plugin_conf_options('admin_token'),
            group=ext_conf.GROUP)
        self.flags(group=ext_conf.GROUP, auth_type='admin_token',
                   endpoint=os.environ[API_URL], token=token(ADMIN_TOKEN))

    def skip_without_bindings_endpoint(self) -> None:
        """The driver binds through ``/instances/{uuid}/bindings``; an API
        without it (404) cannot give a guest its units."""
        answer = requests.get(
            f'{os.environ[API_URL]}/instances/{uuid.uuid4()}/bindings',
            headers=admin_headers(), timeout=30)
        if answer.status_code == 404:
            self.skipTest('the accelerator API answers 404 to GET '
                          '/instances/{uuid}/bindings: it has no binding '
                          'endpoint yet')

    def start_accelerator_compute(self, gpus=GPUS, host_info=None) -> str:
        """A nova-compute with our driver on a host with ``gpus``
        (see :meth:`start_gpu_compute`)."""
        self.flags(compute_driver=ext_compute.COMPUTE_DRIVER)
        return self.start_gpu_compute(gpus, host_info)

    def start_vgpu_compute(self, functions, rules: tuple[str, ...]
                           ) -> tuple[str, sysfs_tree.SysfsTree,
                                      vgpu_manager.VgpuManager]:
        """A nova-compute with our driver on a host whose GPUs
        (``functions``, in vGPU mode by ``rules``) share vGPUs: the vGPU
        manager's stand-in runs in this process, and the driver makes
        vGPUs with the agent's command (as root here: it forks its
        privileged daemon) reading the host's tree."""
        hostname = f'cn-{uuid.uuid4().hex[:8]}'
        tree = sysfs_tree.build(self.workdir / hostname / 'sys', functions)
        manager = vgpu_manager.VgpuManager(tree, functions)
        manager.__enter__()
        self.addCleanup(manager.__exit__)
        conf = ini.write(self.vgpu_conf(hostname), {'agent': {
            'sysfs_root': tree.root, 'resource_provider_name': hostname}})
        self.flags(compute_driver=ext_compute.COMPUTE_DRIVER)
        self.vgpu_flags(conf)
        self.start_compute(hostname)
        self.run_agent(hostname, tree=tree, rules=rules)
        return hostname, tree, manager

    def vgpu_flags(self, agent_conf: pathlib.Path) -> None:
        """The agent command of the host whose compute service starts
        next (each reads it when it starts: the computes of this process
        share nova.conf)."""
        self.flags(group=ext_conf.GROUP, vgpu_command=[
            sys.executable, '-m', 'cyborg_agent.cmd.agent', '--config-file',
            str(agent_conf)])

    def restart_vgpu_compute(self, hostname: str) -> None:
        """Nova's restart of a compute started by
        :meth:`start_vgpu_compute`, with that host's agent command."""
        self.vgpu_flags(self.vgpu_conf(hostname))
        self.restart_compute_service(hostname)

    def vgpu_conf(self, hostname: str) -> pathlib.Path:
        """The cyborg.conf of the host's agent command."""
        return self.workdir / hostname / 'vgpu.conf'

    def vgpu_flavor(self, trait: str) -> str:
        """``resources:VGPU=1`` and the profile's trait."""
        return self._create_flavor(
            name=f'vgpu-{uuid.uuid4().hex[:6]}', vcpu=1, memory_mb=512,
            disk=1, ephemeral=0, extra_spec={
                'resources:VGPU': '1', f'trait:{trait}': 'required'})

    def accelerator_flavor(self, gpus: int = 2) -> str:
        """``resources:PGPU=N`` and the H100 product trait, as operators
        write it (docs/operator-guide.md)."""
        return self._create_flavor(
            name=f'gpu{gpus}-{uuid.uuid4().hex[:6]}', vcpu=1, memory_mb=512,
            disk=1, ephemeral=0, extra_spec={
                'resources:PGPU': str(gpus),
                f'trait:{H100_TRAIT}': 'required'})

    def bound_units(self, server: dict) -> list[str]:
        """PCI addresses the API has bound to the server, on every host."""
        answer = requests.get(
            f'{os.environ[API_URL]}/instances/{server["id"]}/bindings',
            headers=admin_headers(), timeout=30)
        self.assertEqual(200, answer.status_code, answer.text)
        return sorted(unit['pci_address']
                      for unit in answer.json()['bindings'])


class StockNovaServicesTestBase(NovaServicesTestBase):
    """Stock Nova: the unmodified ``libvirt.LibvirtDriver`` (the base's
    default) and Nova's Cyborg client (``nova/accelerator/cyborg.py``)
    with ``[cyborg] endpoint_override`` on the API server's ``/v2``.

    Two things of Nova's test harness stand between that client and a real
    Cyborg, and are undone here. Nova's ``OpenStackSDKFixture`` makes the
    accelerator proxy a bare adapter that skips openstacksdk's version
    discovery; the real proxy maker is put back for it, and reads
    ``/v2``'s version document, as in a deployment. Nova's test client
    sends no ``X-Auth-Token`` and its stub of the keystone context
    middleware keeps none, so the request context has no token for Nova to
    pass on (keystoneauth refuses to send a request without one); here
    every request to Nova carries the user's token (:data:`USER_TOKEN`) and
    the context keeps it, as a user's keystone token would be.
    """

    def setUp(self) -> None:
        super().setUp()
        stubbed = service_description.ServiceDescription._make_proxy

        def make_proxy(description, instance):
            # Placement's stays stubbed: the base's fixture sends Nova's
            # report client to the Placement server without it.
            if description.service_type == 'accelerator':
                return SDK_MAKE_PROXY(description, instance)
            return stubbed(description, instance)

        self.useFixture(fixtures.MonkeyPatch(
            'openstack.service_description.ServiceDescription._make_proxy',
            make_proxy))
        send = nova_client.TestOpenStackClient.api_request

        def with_token(client, relative_uri, **kwargs):
            kwargs.setdefault('headers', {}).setdefault(
                'X-Auth-Token', token(USER_TOKEN))
            return send(client, relative_uri, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.functional.api.client.TestOpenStackClient'
            '.api_request', with_token))
        # Nova's stub of its keystone context middleware drops the token.
        make_context = nova_auth.NovaKeystoneContext._create_context

        def context_with_token(environ, **kwargs):
            context = make_context(environ, **kwargs)
            context.auth_token = environ.get('HTTP_X_AUTH_TOKEN')
            return context

        self.useFixture(fixtures.MonkeyPatch(
            'nova.api.auth.NovaKeystoneContext._create_context',
            context_with_token))
        self.flags(group='cyborg',
                   endpoint_override=os.environ[API_URL] + '/v2')

    def v2(self, method: str, path: str, expected: int = 200,
           headers: dict | None = None, **kwargs) -> requests.Response:
        """The API's ``/v2`` as Cyborg's clients call it: as an admin
        unless ``headers`` say otherwise."""
        answer = requests.request(
            method, f'{os.environ[API_URL]}/v2{path}',
            headers=headers or admin_headers(), timeout=30, **kwargs)
        self.assertEqual(expected, answer.status_code, answer.text)
        return answer

    def device_profile(self, gpus: int = 2) -> str:
        """A device profile of one group, ``gpus`` H100s, made through the
        API as an operator would (``openstack accelerator device profile
        create``); its name."""
        name = f'h100x{gpus}-{uuid.uuid4().hex[:6]}'
        made = self.v2('POST', '/device_profiles', 201, json=[{
            'name': name, 'groups': [{
                'resources:PGPU': str(gpus),
                f'trait:{H100_TRAIT}': 'required'}]}]).json()
        self.assertEqual(name, made['name'])
        return name

    def profile_flavor(self, profile: str) -> str:
        """A flavor naming the device profile, as Cyborg's docs say."""
        return self._create_flavor(
            name=f'{profile}-flavor', vcpu=1, memory_mb=512, disk=1,
            ephemeral=0, extra_spec={'accel:device_profile': profile})

    def arqs(self, server: dict, as_user: bool = False) -> list[dict]:
        """The server's accelerator requests, as an admin sees them or as
        the user (the server's project) does."""
        headers = {'X-Auth-Token': token(USER_TOKEN)} if as_user else None
        return self.v2('GET', '/accelerator_requests', headers=headers,
                       params={'instance': server['id']}).json()['arqs']


class _Outcomes(unittest.TestResult):
    """Each case's outcome and, unless it passed, its text."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: dict[str, dict] = {}

    def _record(self, test, outcome: str, detail: str = '') -> None:
        name = '.'.join(test.id().split('.')[-2:])
        self.outcomes[name] = {'outcome': outcome, 'detail': detail}

    def addSuccess(self, test):
        self._record(test, 'success')

    def addFailure(self, test, err):
        self._record(test, 'failure', self._exc_info_to_string(err, test))

    def addError(self, test, err):
        self._record(test, 'error', self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        self._record(test, 'skip', reason)


def main(argv: list[str]) -> None:
    """``python -m tools.harness.nova_services RESULTS MODULE [CASE...]``:
    run the module's cases (or the named ones) and write their outcomes to
    RESULTS."""
    results_path, module, names = argv[0], argv[1], argv[2:]
    loader = unittest.TestLoader()
    if names:
        suite = unittest.TestSuite(
            loader.loadTestsFromName(name, __import__(
                module, fromlist=['_'])) for name in names)
    else:
        suite = loader.loadTestsFromName(module)
    result = _Outcomes()
    suite.run(result)
    pathlib.Path(results_path).write_text(json.dumps(result.outcomes))


if __name__ == '__main__':
    main(sys.argv[1:])
