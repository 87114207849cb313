"""The vGPU race window: how long Placement offers what a GPU can no longer
make, after a vGPU is made (and can make again, after one is deleted).

A vGPU made on a GPU changes what the GPU's other VFs list as creatable
(NVIDIA's driver: one profile per GPU, a cap per profile). Placement learns
it at the agent's next publication cycle; until then it may offer, say, a
whole-card vGPU of a GPU that now holds a slice. The window is the wait for
that cycle (up to ``[agent] report_interval``) plus the cycle itself. This
script measures the cycle, in-process against a real Placement (SQLite, one
worker) on a host of ``--gpus`` H200s in vGPU mode (sysfs trees of their
real ids, the harness's stand-in for the vGPU manager):

- baseline: a cycle in which nothing changed;
- made: a cycle right after the first vGPU of a slice profile was made on a
  free GPU (the agent's privileged entry point, as the driver's command
  runs it), asserted to have taken the GPU's whole-card vGPU out of the
  offer;
- deleted: a cycle right after it was deleted, asserted to offer it again.

Each row prints the median seconds of ``--repeat`` cycles, the Placement
requests of one cycle (reads, writes) and the time ratio against the
baseline.

Then the window as a compute host sees it, with ``[DEFAULT] transport_url``
on ``--rabbit``: the real ``cyborg-agent`` daemon (``report_interval``
600 s) and API, and ``cyborg-agent vgpu make|delete`` run as nova-compute's
driver runs it, which casts ``publish`` to the daemon. Printed: the median
and largest seconds from the command's return to Placement's offer
changing (polled every 10 ms), and the command's own seconds.

Usage: python benchmarks/vgpu_window.py [--gpus 2] [--repeat 20]
       [--rabbit rabbit://guest:guest@127.0.0.1:5672/]
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from cyborg_agent import daemon  # noqa: E402
from cyborg_agent.privileged.vgpu import VgpuTree  # noqa: E402
from tools.harness import agent_host  # noqa: E402
from tools.harness import catalog  # noqa: E402
from tools.harness import ini  # noqa: E402
from tools.harness import run_facts  # noqa: E402
from tools.harness import sysfs_tree  # noqa: E402
from tools.harness import waiting  # noqa: E402
from tools.harness.agent_host import AGENT  # noqa: E402
from tools.harness.agent_host import Daemon  # noqa: E402
from tools.harness.api_server import ApiServer  # noqa: E402
from tools.harness.local_placement import LocalPlacement  # noqa: E402
from tools.harness.vgpu_manager import VgpuManager  # noqa: E402

RULE = ('{"product_id": "2335", "vgpu_profiles": '
        '{"NVIDIA H200X-1-18C": 7, "NVIDIA H200X-141C": 1}}')
SLICE = '1414'
WHOLE_TRAIT = 'CUSTOM_VGPU_NVIDIA_H200X_141C'
REPORT_INTERVAL = 60  # [agent] report_interval's default


def _whole_offered(agent: daemon.Agent) -> int:
    return agent_host.vgpu_offer(agent.sync.client, agent.sync.root_name,
                                 WHOLE_TRAIT)


def _timed_cycle(agent: daemon.Agent) -> tuple[float, int, int]:
    """One publication cycle: seconds, Placement reads and writes."""
    before = agent.sync.client.counts.copy()
    started = time.perf_counter()
    agent.cycle()
    seconds = time.perf_counter() - started
    spent = agent.sync.client.counts - before
    return seconds, spent['GET'], sum(spent.values()) - spent['GET']


def _row(name: str, cycles: list[tuple[float, int, int]],
         baseline: float) -> None:
    median = statistics.median(c[0] for c in cycles)
    reads = statistics.median(c[1] for c in cycles)
    writes = statistics.median(c[2] for c in cycles)
    print(f'{name:<10} {len(cycles):>6} {median * 1000:>10.1f} '
          f'{reads:>6g} {writes:>7g} {median / baseline:>7.2f}')


def _woken(tmp: pathlib.Path, placement: LocalPlacement,
           tree: sysfs_tree.SysfsTree, vf: str, gpus: int, repeat: int,
           rabbit: str) -> tuple[list[float], list[float]]:
    """Seconds from each ``vgpu make|delete`` command's return to
    Placement showing its change, and each command's own seconds."""
    api = ApiServer.on_sqlite(tmp / 'api', placement.url, workers=1)
    api.start()
    conf_file = tmp / 'agent.conf'
    conf = ini.cyborg_conf(conf_file, {
        'DEFAULT': {'transport_url': rabbit, 'debug': 'true'},
        'placement': ini.token_auth(placement.url),
        'accelerator_api': ini.token_auth(api.url),
        'agent': {'sysfs_root': str(tree.root),
                  'resource_provider_name': f'vgpu-woken-{os.getpid()}',
                  'manage_root_provider': 'true',
                  'state_dir': str(tmp / 'woken-state'),
                  'device_rule': [RULE], 'report_interval': 600,
                  'periodic_fuzzy_delay': 0}})
    agent = daemon.Agent(conf)  # a client for reading the offer
    daemon_process = Daemon(conf_file, tmp / 'agent.log')
    windows, commands = [], []
    try:
        waiting.wait_for(
            lambda: 'Listening for wake-ups' in daemon_process.stderr()
            and 'Cycle done' in daemon_process.stderr(), 60,
            'the agent published and listening for wake-ups')
        for _ in range(repeat):
            for action, offered in (('make', gpus - 1), ('delete', gpus)):
                started = time.perf_counter()
                done = subprocess.run(
                    [AGENT, '--config-file', str(conf_file), 'vgpu', action,
                     '--interface', 'vfio', '--address', vf,
                     '--type', SLICE], capture_output=True, text=True)
                returned = time.perf_counter()
                assert done.returncode == 0, done.stderr
                waiting.wait_for(lambda n=offered: _whole_offered(agent) == n,
                                 600, f'vgpu {action} published',
                                 interval=0.01)
                windows.append(time.perf_counter() - returned)
                commands.append(returned - started)
    finally:
        daemon_process.stop()
        api.stop()
    return windows, commands


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--gpus', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=20)
    parser.add_argument('--rabbit', default=os.environ.get(
        'CYBORG_TEST_RABBITMQ_URL', 'rabbit://guest:guest@127.0.0.1:5672/'))
    args = parser.parse_args()
    print(run_facts.header())
    gpus = [catalog.nvidia_h200_vgpu(f'0000:{0x41 + 0x10 * i:02x}:00.0',
                                     vfs=8) for i in range(args.gpus)]
    vf = gpus[0].vfs[0].address
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        tree = sysfs_tree.build(tmp / 'sys', gpus)
        placement = LocalPlacement(tmp / 'placement')
        placement.start()
        try:
            conf = ini.cyborg_conf(tmp / 'cyborg.conf', {
                'placement': ini.token_auth(placement.url),
                'agent': {'sysfs_root': str(tree.root),
                          'resource_provider_name': 'vgpu-bench',
                          'manage_root_provider': 'true',
                          'state_dir': str(tmp / 'state'),
                          'device_rule': [RULE]}})
            agent = daemon.Agent(conf)
            vgpus = VgpuTree(tree.root, frozenset())
            with VgpuManager(tree, gpus) as manager:
                agent.cycle()  # the first publication
                unchanged, made, deleted = [], [], []
                for _ in range(args.repeat):
                    unchanged.append(_timed_cycle(agent))
                    vgpus.set_vgpu_type(vf, SLICE)
                    manager.settle()
                    made.append(_timed_cycle(agent))
                    assert _whole_offered(agent) == args.gpus - 1
                    vgpus.clear_vgpu_type(vf)
                    manager.settle()
                    deleted.append(_timed_cycle(agent))
                    assert _whole_offered(agent) == args.gpus
                windows, commands = _woken(tmp, placement, tree, vf,
                                           args.gpus, args.repeat // 2 or 1,
                                           args.rabbit)
        finally:
            placement.stop()
    baseline = statistics.median(c[0] for c in unchanged)
    print(f'# {args.gpus} H200 (8 VFs each, 2 profiles: '
          f'{2 * 8 * args.gpus} units in 2 pools)')
    print(f'{"cycle":<10} {"cycles":>6} {"median ms":>10} {"reads":>6} '
          f'{"writes":>7} {"ratio":>7}')
    _row('unchanged', unchanged, baseline)
    _row('made', made, baseline)
    _row('deleted', deleted, baseline)
    after = statistics.median(c[0] for c in made)
    print(f'# window polling alone: the wait for the next cycle '
          f'(0-{REPORT_INTERVAL} s at the default report_interval, '
          f'{REPORT_INTERVAL / 2:g} s on average) + {after * 1000:.0f} ms')
    print(f'# woken by the vgpu command\'s cast ({len(windows)} commands, '
          f'make and delete): from its return to Placement, median '
          f'{statistics.median(windows) * 1000:.0f} ms, largest '
          f'{max(windows) * 1000:.0f} ms; the command itself, median '
          f'{statistics.median(commands) * 1000:.0f} ms')
    return 0


if __name__ == '__main__':
    sys.exit(main())
