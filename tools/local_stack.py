"""Run the whole system locally on embedded defaults and show what it does.

A local Placement (SQLite, noauth2), the accelerator API (SQLite, noauth, two
gunicorn workers) and the agent daemon on this host. The agent discovers this
host, or, when it has no accelerators, a clearly labelled SAMPLE HOST described by
a sysfs tree of real device ids. Then: the provider tree in Placement, Nova's own
allocation-candidate query for a few flavors, and an accelerator attached and
detached to this host, once by REST and once with the ``openstack`` CLI.

State lives in ``.local/`` of the checkout (databases, config, logs, pid files).
Running it again reuses the services that still run; ``--stop`` stops them.
"""
import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys

import requests

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cyborg_placement.placement import hostname  # noqa: E402
from tools.harness import catalog  # noqa: E402
from tools.harness import ini  # noqa: E402
from tools.harness import nova_request  # noqa: E402
from tools.harness import sysfs_tree  # noqa: E402
from tools.harness import waiting  # noqa: E402
from tools.harness.local_placement import LocalPlacement  # noqa: E402
from tools.harness.server_process import ServerProcess  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
API_HEADERS = {'X-Auth-Token': 'admin',
               'OpenStack-API-Version': 'accelerator 1.0'}
PLACEMENT_HEADERS = {'X-Auth-Token': 'admin',
                     'OpenStack-API-Version': 'placement 1.39'}
SERVICES = ('agent', 'api', 'placement')
#: Without nova-compute the root provider has no VCPU, MEMORY_MB or DISK_GB
#: inventory, so the demo's flavors ask for accelerators only.
FLAVOR_SIZE = {'vcpus': 0, 'memory_mb': 0, 'root_gb': 0}

#: Flavors whose Nova query the demo shows, as an operator would set them.
FLAVORS = {
    'gpu.2x': ({'resources:PGPU': '2'}, []),
    'crypto.qat': ({'resources1:CUSTOM_ACCEL_CRYPTO': '1',
                    'trait1:CUSTOM_ACCEL_VENDOR_8086': 'required',
                    'group_policy': 'none'}, []),
    'gpu.not-h100': ({'resources1:PGPU': '1',
                      'trait1:CUSTOM_ACCEL_PRODUCT_10DE_2330': 'forbidden'},
                     []),
}


def step(message: str) -> None:
    print(f'\n==> {message}', flush=True)


def say(message: str) -> None:
    print(f'    {message}', flush=True)


class Stack:
    """The services of one state directory, and what the demo does with them."""

    def __init__(self, state: pathlib.Path, placement_port: int,
                 api_port: int) -> None:
        self.state = state
        self.placement = LocalPlacement(state / 'placement',
                                        port=placement_port,
                                        sync_schema=True)
        self.api_url = f'http://127.0.0.1:{api_port}'
        self.api_port = api_port
        self.conf = state / 'cyborg.conf'
        self.root = hostname.libvirt_hostname()

    # Processes that outlive this script: one pid file each.

    def _pidfile(self, name: str) -> pathlib.Path:
        return self.state / f'{name}.pid'

    def running(self, name: str) -> bool:
        try:
            os.kill(int(self._pidfile(name).read_text()), 0)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            return False
        return True

    def _started(self, name: str, process: subprocess.Popen) -> None:
        self._pidfile(name).write_text(str(process.pid))

    def stop(self) -> None:
        for name in SERVICES:
            if self.running(name):
                step(f'stopping {name}')
                try:
                    os.killpg(int(self._pidfile(name).read_text()),
                              signal.SIGTERM)
                except ProcessLookupError:
                    pass
            self._pidfile(name).unlink(missing_ok=True)

    # Start-up.

    def start_placement(self) -> None:
        if self.running('placement'):
            step(f'Placement already running on {self.placement.url}')
            return
        step(f'starting Placement (openstack-placement, SQLite, noauth2) on '
             f'{self.placement.url}')
        self.placement.prepare()
        self.placement.start()
        self._started('placement', self.placement.process)

    def choose_sysfs_root(self) -> tuple[str, bool]:
        """This host's /sys, or the sample host; and whether it is the sample."""
        out = subprocess.run(
            [str(BIN / 'cyborg-agent'), 'discover', '--sysfs-root', '/sys',
             '--format', 'json'], check=True, capture_output=True, text=True)
        found = [d for d in json.loads(out.stdout) if d.get('type')]
        if found:
            step(f'this host has {len(found)} accelerator function(s): the '
                 'agent reads /sys')
            return '/sys', False
        sample = self.state / 'SAMPLE-HOST-sysfs'
        step('this host has no accelerators: the agent reads a SAMPLE HOST, a '
             f'sysfs tree in {sample} (8x NVIDIA H100, 2x Intel QAT 4xxx with '
             '16 VFs each, built from their real PCI ids)')
        if not sample.exists():
            tree = sysfs_tree.build(sample, catalog.gpu_server())
            tree.driver_dir('vfio-pci')
        return str(sample), True

    def write_conf(self, sysfs_root: str) -> None:
        ini.write(self.conf, {
            'DEFAULT': {'log_dir': str(self.state)},
            'agent': {'sysfs_root': sysfs_root,
                      'manage_root_provider': 'true',
                      'report_interval': 2,
                      'reconcile_interval': 1,
                      'state_dir': str(self.state / 'agent-state')},
            'api': {'bind_host': '127.0.0.1', 'bind_port': self.api_port,
                    'workers': 2, 'auth_strategy': 'noauth'},
            'database': {
                'connection': f'sqlite:///{self.state / "cyborg.sqlite"}'},
            'placement': ini.token_auth(self.placement.url),
            'accelerator_api': ini.token_auth(self.api_url),
        })

    def start_api(self) -> None:
        if self.running('api'):
            step(f'accelerator API already running on {self.api_url}')
            return
        step('creating the API schema: cyborg-manage db sync')
        subprocess.run([str(BIN / 'cyborg-manage'), '--config-file',
                        str(self.conf), 'db', 'sync'], check=True)
        step(f'starting the accelerator API (cyborg-api, SQLite, 2 workers) '
             f'on {self.api_url}')
        server = ServerProcess(
            [str(BIN / 'cyborg-api'), '--config-file', str(self.conf)],
            url=self.api_url, log_path=self.state / 'cyborg-api.out',
            ready_path='/healthcheck', ready_status=200)
        server.start()
        self._started('api', server.process)

    def start_agent(self) -> None:
        if self.running('agent'):
            step('agent already running')
            return
        step(f'starting the agent daemon (cyborg-agent, every 2 s) for host '
             f'{self.root}')
        with open(self.state / 'cyborg-agent.out', 'ab') as log:
            process = subprocess.Popen(
                [str(BIN / 'cyborg-agent'), '--config-file', str(self.conf)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._started('agent', process)

    # What the demo shows.

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.api_url + path,
                                headers=API_HEADERS, timeout=30, **kwargs)

    def placement_get(self, path: str) -> dict:
        answer = requests.get(self.placement.url + path,
                              headers=PLACEMENT_HEADERS, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def wait_for_report(self, timeout: float = 90) -> list[dict]:
        step('waiting for the agent: providers in Placement and the device '
             'report in the API')
        def reported():
            found = self.api('GET', f'/accelerators?host={self.root}')
            return found.ok and found.json()['accelerator']
        try:
            accelerators = waiting.wait_for(reported, timeout,
                                            'the device report', interval=1)
        except waiting.TimedOut:
            raise SystemExit(f'the agent reported nothing in {timeout}s; see '
                             f'{self.state}/cyborg-agent.out') from None
        say(f'the API lists {len(accelerators)} accelerator(s) of {self.root}')
        return accelerators

    def print_tree(self) -> None:
        step(f'resource providers under {self.root} in Placement')
        root = self.placement_get(
            f'/resource_providers?name={self.root}')['resource_providers'][0]
        tree = self.placement_get(
            f'/resource_providers?in_tree={root["uuid"]}')['resource_providers']
        for provider in sorted(tree, key=lambda p: p['name']):
            depth = 0 if provider['uuid'] == root['uuid'] else 1
            pad = '    ' * (depth + 1)
            print(f'{pad}{provider["name"]}  ({provider["uuid"]})')
            base = f'/resource_providers/{provider["uuid"]}'
            inventories = self.placement_get(base + '/inventories')
            for rc, inv in sorted(inventories['inventories'].items()):
                print(f'{pad}  inventory {rc}: total={inv["total"]} '
                      f'reserved={inv["reserved"]} max_unit={inv["max_unit"]}')
            traits = self.placement_get(base + '/traits')['traits']
            if traits:
                print(f'{pad}  traits: {", ".join(sorted(traits))}')

    def show_scheduling(self) -> None:
        step("Nova's scheduling query for flavor extra specs (built by "
             "nova.scheduler.utils.ResourceRequest, sent at microversion "
             "1.36; flavors of 0 vCPU/RAM/disk, as no nova-compute runs here)")
        try:
            queries = nova_request.allocation_candidate_queries(
                FLAVORS, FLAVOR_SIZE)
        except nova_request.NovaUnavailable as exc:
            say(f'skipped: {exc}')
            return
        names = {p['uuid']: p['name'] for p in self.placement_get(
            '/resource_providers')['resource_providers']}
        for flavor, (specs, _) in FLAVORS.items():
            answer = requests.get(
                f'{self.placement.url}/allocation_candidates?{queries[flavor]}',
                headers=dict(PLACEMENT_HEADERS,
                             **{'OpenStack-API-Version': 'placement 1.36'}),
                timeout=60).json()
            print(f'    flavor {flavor}: {json.dumps(specs)}')
            print(f'      GET /allocation_candidates?{queries[flavor]}')
            providers = sorted({names.get(uuid, uuid)
                                for request in answer['allocation_requests']
                                for uuid in request['allocations']})
            print(f'      {len(answer["allocation_requests"])} candidate(s), '
                  f'providers: {", ".join(providers) or "none"}')

    def wait_state(self, uuid: str, wanted: str, timeout: float = 60) -> dict:
        def reached():
            shown = self.api('GET', f'/accelerators/{uuid}').json()
            attachment = shown.get('attachment') or {}
            if attachment.get('state') == 'attach_failed':
                raise SystemExit(f'attach failed: {attachment.get("reason")}')
            return shown if attachment.get('state') == wanted else None
        try:
            return waiting.wait_for(reached, timeout, f'{uuid} {wanted}',
                                    interval=0.5)
        except waiting.TimedOut:
            raise SystemExit(f'{uuid} did not reach {wanted} in {timeout}s'
                             ) from None

    def free_accelerator(self) -> dict:
        found = self.api('GET', f'/accelerators?host={self.root}').json()
        free = [a for a in found['accelerator'] if a['state'] == 'available'
                and not (a['attachment'] or {}).get('holds_accelerator')]
        free.sort(key=lambda a: (a['acc_specs'].get('device_type') != 'GPU',
                                 a['pci_address']))
        return free[0]

    def show_binding(self, accelerator: dict, sysfs_root: str) -> None:
        override = (pathlib.Path(sysfs_root) / 'bus' / 'pci' / 'devices'
                    / accelerator['pci_address'] / 'driver_override')
        say(f'{override}: {override.read_text().strip()}')
        usages = self.placement_get(
            f'/resource_providers/{accelerator["pool_provider_uuid"]}/usages')
        say(f'pool usages in Placement: {usages["usages"]}')

    def attach_by_rest(self, sysfs_root: str) -> None:
        accelerator = self.free_accelerator()
        uuid = accelerator['uuid']
        step(f'REST: PUT /accelerators/{uuid} {{"host": "{self.root}"}} '
             f'({accelerator["pci_address"]})')
        answer = self.api('PUT', f'/accelerators/{uuid}',
                          json={'host': self.root})
        say(f'{answer.status_code}: attachment '
            f'{answer.json()["attachment"]["state"]}')
        shown = self.wait_state(uuid, 'attached')
        say(f'the agent reports: {shown["attachment"]["state"]}')
        self.show_binding(accelerator, sysfs_root)
        step(f'REST: DELETE /accelerators/{uuid}')
        answer = self.api('DELETE', f'/accelerators/{uuid}')
        say(f'{answer.status_code}')
        shown = self.wait_state(uuid, 'detached')
        say(f'the agent reports: {shown["attachment"]["state"]}')
        self.show_binding(accelerator, sysfs_root)

    def openstack(self, *args: str) -> str:
        argv = [str(BIN / 'openstack'), '--os-auth-type', 'none',
                '--os-endpoint', self.api_url, 'accelerator', *args]
        print(f'    $ openstack accelerator {" ".join(args)}', flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        out = subprocess.run(argv, check=True, capture_output=True,
                             text=True, env=env).stdout
        return out

    def attach_by_cli(self) -> None:
        uuid = self.free_accelerator()['uuid']
        step('CLI: the same with the openstack command')
        print(self.openstack('list', '--host', self.root, '--type', 'GPU'),
              end='')
        print(self.openstack('attach', uuid, '--host', self.root, '-f', 'yaml',
                             '-c', 'pci_address', '-c', 'attachment'), end='')
        shown = self.wait_state(uuid, 'attached')
        say(f'the agent reports: {shown["attachment"]["state"]}')
        print(self.openstack('show', uuid, '-c', 'attachment', '-f', 'json'),
              end='')
        print(self.openstack('detach', uuid), end='')
        shown = self.wait_state(uuid, 'detached')
        say(f'the agent reports: {shown["attachment"]["state"]}')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--stop', action='store_true',
                        help='stop the services started earlier and exit')
    parser.add_argument('--stop-at-end', action='store_true',
                        help='stop the services when the demo is done')
    parser.add_argument('--state-dir', default=str(REPO / '.local'))
    parser.add_argument('--placement-port', type=int, default=8778)
    parser.add_argument('--api-port', type=int, default=6666)
    args = parser.parse_args()
    state = pathlib.Path(args.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    stack = Stack(state, args.placement_port, args.api_port)
    if args.stop:
        stack.stop()
        return 0
    try:
        stack.start_placement()
        sysfs_root, sample = stack.choose_sysfs_root()
        stack.write_conf(sysfs_root)
        stack.start_api()
        stack.start_agent()
        stack.wait_for_report()
        stack.print_tree()
        stack.show_scheduling()
        if sample:
            stack.attach_by_rest(sysfs_root)
            stack.attach_by_cli()
        else:
            step('this host has real accelerators: the demo does not rebind '
                 'them; attach one yourself with "openstack accelerator '
                 'attach" when you mean it')
    finally:
        if args.stop_at_end:
            stack.stop()
    if not args.stop_at_end:
        step(f'done. Services keep running (logs and state in {state}); '
             f'stop them with: {sys.argv[0]} --stop')
    else:
        step('done; services stopped')
    return 0


if __name__ == '__main__':
    sys.exit(main())
