"""A host running the real agent: a sysfs tree, a compute node in the real
Placement, a cyborg.conf, and ``cyborg-agent`` (``--once`` or the daemon).
Tests and benchmarks share it.

The agent runs as an operator runs it, so a test can kill it at a crash
point (``CYBORG_CRASH_AT``) and start it again.
"""
import dataclasses
import os
import pathlib
import signal
import subprocess
import sys
import uuid

from cyborg_agent import api_client
from cyborg_agent.attachment_api import AttachmentApi
from cyborg_agent.host_attach import HostBinder
from cyborg_agent.journal import Journal
from cyborg_agent.reconciler import Reconciler
from cyborg_agent.vm_attach import VmAttacher
from cyborg_placement import crash_points
from tools.harness import catalog
from tools.harness import ini
from tools.harness import service_user
from tools.harness import sysfs_tree
from tools.harness.api_server import ApiClient
from tools.harness.launcher import LAUNCHER
from tools.harness.nova_compute import create_compute_node

AGENT = str(pathlib.Path(sys.executable).parent / 'cyborg-agent')
GPUS = ('0000:3b:00.0', '0000:3c:00.0')


@dataclasses.dataclass
class AgentHost:
    name: str
    workdir: pathlib.Path
    sysfs: sysfs_tree.SysfsTree
    api_url: str
    placement_url: str
    libvirt_uri: str = 'test:///default'
    #: Added to the agent's environment on every run.
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    #: More ``[agent]`` options.
    agent_options: dict = dataclasses.field(default_factory=dict)
    #: More sections of the agent's cyborg.conf (``privsep_sysfs``;
    #: ``DEFAULT``: ``transport_url``, ``debug``).
    sections: dict = dataclasses.field(default_factory=dict)
    #: The user the agent runs as (its own group, no other), else the test's.
    user: str | None = None

    @property
    def conf_file(self) -> pathlib.Path:
        return self.workdir / 'cyborg-agent.conf'

    @property
    def state_dir(self) -> pathlib.Path:
        return self.workdir / 'state'

    def write_conf(self) -> None:
        sections = {
            'placement': ini.token_auth(self.placement_url),
            'accelerator_api': ini.token_auth(self.api_url),
            **self.sections,  # before [agent]: tests append to [agent]
            'agent': {'sysfs_root': self.sysfs.root,
                      'resource_provider_name': self.name,
                      'state_dir': self.state_dir,
                      'libvirt_uri': self.libvirt_uri,
                      **self.agent_options},
        }
        ini.write(self.conf_file, sections)

    def command(self, *args: str) -> list[str]:
        """The agent's command line, as ``user`` when there is one."""
        argv = [AGENT, '--config-file', str(self.conf_file), *args]
        return argv if self.user is None else service_user.command(
            self.user, argv)

    def run_once(self, crash_at: str | None = None
                 ) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != crash_points.ENV}
        env.update(self.env)
        if crash_at:
            env[crash_points.ENV] = crash_at
        if self.user is not None:
            return subprocess.run(
                self.command('--once'), env=env, capture_output=True,
                text=True, timeout=120)
        return LAUNCHER.run(self.command('--once'), env=env, timeout=120)

    def settle(self) -> subprocess.CompletedProcess:
        done = self.run_once()
        assert done.returncode == 0, done.stderr
        return done

    def journal(self) -> list[str]:
        """Attachments the agent still keeps undo records for."""
        return Journal(self.state_dir).uuids()

    def device(self, address: str) -> pathlib.Path:
        return self.sysfs.bus / 'devices' / address

    def read(self, address: str, name: str) -> str:
        return (self.device(address) / name).read_text()


def make_agent_host(placement, tmp_path, name: str, api_url: str,
                    placement_url: str, **kwargs) -> AgentHost:
    """Two T4 GPUs on the nvidia driver, vfio-pci loaded, a compute node."""
    create_compute_node(placement, name)
    tree = sysfs_tree.build(tmp_path / 'sys',
                            [catalog.nvidia_t4(a) for a in GPUS])
    tree.driver_dir('vfio-pci')
    host = AgentHost(name, tmp_path, tree, api_url, placement_url, **kwargs)
    host.write_conf()
    host.settle()  # publication and device report
    return host


def vm_reconciler(host: AgentHost, conn, **attacher) -> Reconciler:
    """The host's reconciler in this process, its VM attachments on the
    libvirt connection ``conn`` (the embedded driver's: one per process);
    ``attacher``: more :class:`VmAttacher` arguments."""
    conf = ini.cyborg_conf(
        host.workdir / f'reconciler-{uuid.uuid4().hex[:6]}.conf',
        {'accelerator_api': ini.token_auth(host.api_url)})
    journal = Journal(host.state_dir)
    return Reconciler(
        AttachmentApi(api_client.make_adapter(conf)), host.name, journal,
        HostBinder(host.sysfs.root, journal),
        VmAttacher('qemu:///embed', host.sysfs.root, journal, conn=conn,
                   **attacher))


def accelerator(admin: ApiClient, host: str, address: str) -> dict:
    found = admin.get('/accelerators', params={'host': host}).json()
    return next(a for a in found['accelerator'] if a['pci_address'] == address)


def instance_on(placement, host_name: str) -> str:
    """An instance Nova placed on the host (VCPU on the compute node)."""
    root = placement.get('/resource_providers', params={
        'name': host_name})['resource_providers'][0]['uuid']
    instance = str(uuid.uuid4())
    placement.put(f'/allocations/{instance}', {
        'allocations': {root: {'resources': {'VCPU': 2}}},
        'consumer_generation': None, 'project_id': 'p1', 'user_id': 'u1',
        'consumer_type': 'INSTANCE'}, microversion='1.38')
    return instance


def pool_usage(placement, pool: str) -> int:
    usages = placement.get(f'/resource_providers/{pool}/usages')['usages']
    return sum(usages.values())


def reserved(placement, pool: str) -> int:
    inventories = placement.get(
        f'/resource_providers/{pool}/inventories')['inventories']
    return sum(i['reserved'] for i in inventories.values())


def vgpu_offer(placement, host: str, trait: str) -> int:
    """What the host's VGPU pool with ``trait`` offers (total - reserved),
    used or not."""
    [pool] = [p for p in placement.get('/resource_providers', params={
        'required': trait}, microversion='1.18')['resource_providers']
        if p['name'].startswith(f'{host}_')]
    vgpu = placement.get(f'/resource_providers/{pool["uuid"]}/inventories'
                         )['inventories']['VGPU']
    return vgpu['total'] - vgpu['reserved']


class Daemon:
    """``cyborg-agent`` running in the background, stderr kept in a file."""

    def __init__(self, conf_path: pathlib.Path, log: pathlib.Path) -> None:
        self.log = log
        with open(log, 'wb') as out:
            self.process = subprocess.Popen(
                [AGENT, '--config-file', str(conf_path)],
                stdout=subprocess.DEVNULL, stderr=out)

    def stderr(self) -> str:
        return self.log.read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)
