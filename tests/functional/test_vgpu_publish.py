"""A vGPU made or deleted reaches Placement at once, not at the agent's next
cycle: ``cyborg-agent vgpu make|delete`` (what nova-compute's driver runs)
casts ``publish`` to its host's agent over the real RabbitMQ, and the
daemon's publication runs then.

The real ``cyborg-agent`` daemon (``report_interval`` 600 s, so only the
cast explains an update within :data:`PUBLISHED`) on an H200 in vGPU mode,
the harness's stand-in for the vGPU manager, the real Placement and API.
"""
import subprocess

from tools.harness import agent_host as support
from tools.harness import catalog
from tools.harness import sysfs_tree
from tools.harness import vgpu_manager
from tools.harness import waiting
from tools.harness.agent_host import Daemon
from tools.harness.nova_compute import create_compute_node

H200 = '0000:41:00.0'
RULE = ('{"product_id": "2335", "vgpu_profiles": '
        '{"NVIDIA H200X-1-18C": 7, "NVIDIA H200X-141C": 1}}')
WHOLE = 'CUSTOM_VGPU_NVIDIA_H200X_141C'
#: Seconds within which a cast publication must show: far below the
#: daemon's report_interval.
PUBLISHED = 60


def _vgpu(host: support.AgentHost, action: str, vf: str
          ) -> subprocess.CompletedProcess:
    return subprocess.run(
        host.command('vgpu', action, '--interface', 'vfio', '--address', vf,
                     '--type', '1414'),
        capture_output=True, text=True, timeout=120)


def test_a_vgpu_the_driver_makes_is_published_at_once(
        rabbitmq_url, placement, placement_server, api_server, tmp_path,
        unique_name):
    create_compute_node(placement, unique_name)
    h200 = catalog.nvidia_h200_vgpu(H200, vfs=2)
    vf = h200.vfs[0].address
    tree = sysfs_tree.build(tmp_path / 'sys', [h200])
    with vgpu_manager.VgpuManager(tree, [h200]):
        host = support.AgentHost(
            unique_name, tmp_path, tree, api_server.url, placement_server.url,
            sections={'DEFAULT': {'transport_url': rabbitmq_url,
                                  'debug': 'true'}},
            agent_options={'device_rule': [RULE], 'report_interval': 600,
                           'periodic_fuzzy_delay': 0})
        host.write_conf()
        host.settle()
        assert support.vgpu_offer(placement, host.name, WHOLE) == 1
        daemon = Daemon(host.conf_file, tmp_path / 'agent.log')
        try:
            waiting.wait_for(
                lambda: 'Listening for wake-ups' in daemon.stderr(), 60,
                'the agent listening for wake-ups')

            made = _vgpu(host, 'make', vf)
            assert made.returncode == 0, made.stderr
            # the GPU holds a slice now: its whole card is not offered
            waiting.wait_for(
                lambda: support.vgpu_offer(placement, host.name, WHOLE) == 0,
                PUBLISHED, 'the whole card taken out of the offer')

            deleted = _vgpu(host, 'delete', vf)
            assert deleted.returncode == 0, deleted.stderr
            waiting.wait_for(
                lambda: support.vgpu_offer(placement, host.name, WHOLE) == 1,
                PUBLISHED, 'the whole card offered again')
            assert daemon.stderr().count('Asked to publish') == 2
        finally:
            assert daemon.stop() == 0, daemon.stderr()
        assert 'Traceback' not in daemon.stderr()
