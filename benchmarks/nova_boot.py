"""Requests one server's spawn and delete cost the accelerator API and
Placement, with a server of the same size without accelerators as baseline,
for both ways Nova gives servers accelerators.

Starts a real Placement and a ``cyborg-api`` (SQLite, one worker), then, in a
Nova process of its own (tools/harness/nova_services.py: nova-api, conductor,
scheduler and a compute service on Nova's fake libvirt, 4 H100s published by
``cyborg-agent --once``), boots and deletes a server of each flavor
``--repeat`` times: once with ``LibvirtAcceleratorDriver`` and a
``resources:`` flavor, once with stock Nova (its ``LibvirtDriver`` and
Cyborg client on the API's ``/v2``) and an ``accel:device_profile`` flavor,
each with fresh servers; and, with our driver, a vGPU server (an H200
slice, made on the host when bound) against a whole-GPU one (an H100) on
two compute hosts of the same services, with their ratio. Every request
the Nova process sends (Nova's scheduler, conductor and report client to
Placement, the driver or Nova's Cyborg client to the API) goes through
``requests``' HTTP adapter, where it is counted by the server it is for;
Placement's gunicorn access log counts all it received, so the difference
is what the API sent it (its bind reads). Nothing else talks to either
server meanwhile. Prints the median requests and seconds of each step.

Usage: python benchmarks/nova_boot.py [--repeat 3]
"""
import argparse
import collections
import functools
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import fixtures
from requests import adapters

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tools.harness import catalog  # noqa: E402
from tools.harness import nova_services  # noqa: E402
from tools.harness import run_facts  # noqa: E402
from tools.harness.api_server import ApiServer  # noqa: E402
from tools.harness.local_placement import LocalPlacement  # noqa: E402

#: Where the Nova process writes its figures, and how many rounds it runs.
FIGURES = 'CYBORG_NOVA_BENCH_FIGURES'
REPEAT = 'CYBORG_NOVA_BENCH_REPEAT'
PLACEMENT_LOG = 'CYBORG_NOVA_BENCH_PLACEMENT_LOG'
#: The cases run, each in a Nova process of its own.
CASES = ('NovaBootCost.test_boot_and_delete',
         'StockNovaBootCost.test_boot_and_delete',
         'VgpuBootCost.test_boot_and_delete')
#: The rows the vGPU ratio compares (VgpuBootCost's flavors).
VGPU_ROW = 'resources:VGPU=1 (H200X-1-18C)'
WHOLE_ROW = 'resources:PGPU=1 (whole H100)'



class _BootCost:
    """Counting the requests of a step, in the Nova process."""

    def count_requests(self) -> None:
        self.counts: collections.Counter = collections.Counter()
        servers = {'api': os.environ[nova_services.API_URL],
                   'placement': os.environ[nova_services.PLACEMENT_URL]}
        send = adapters.HTTPAdapter.send

        def counting_send(adapter, request, *args, **kwargs):
            for name, url in servers.items():
                if request.url.startswith(url):
                    self.counts[name] += 1
            return send(adapter, request, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'requests.adapters.HTTPAdapter.send', counting_send))

    def measure(self, step) -> tuple[dict, object]:
        self.counts.clear()
        received = self.placement_received()
        start = time.monotonic()
        result = step()
        seconds = time.monotonic() - start
        return {'api': self.counts['api'],
                'placement_from_nova': self.counts['placement'],
                'placement': self.placement_received() - received,
                'seconds': seconds}, result

    @staticmethod
    def placement_received() -> int:
        """Requests in Placement's access log so far."""
        with open(os.environ[PLACEMENT_LOG], 'rb') as log:
            return sum(1 for _ in log)

    def boot_and_delete(self, flavors: dict[str, str]) -> None:
        """Boot and delete a server of each flavor, ``$REPEAT`` rounds; the
        figures go to ``$FIGURES``."""
        figures = []
        for _ in range(int(os.environ[REPEAT])):
            for name, flavor in flavors.items():
                spawn, server = self.measure(
                    functools.partial(self.boot, flavor))
                delete, _ = self.measure(
                    functools.partial(self._delete_server, server))
                figures += [dict(spawn, flavor=name, step='spawn'),
                            dict(delete, flavor=name, step='delete')]
        pathlib.Path(os.environ[FIGURES]).write_text(json.dumps(figures))

    def plain_flavor(self) -> str:
        return self._create_flavor(name='plain', vcpu=1, memory_mb=512,
                                   disk=1, ephemeral=0)


class NovaBootCost(_BootCost, nova_services.AcceleratorServicesTestBase):
    """Our driver. Run in the Nova process by :func:`main`, not by the test
    suite."""

    def setUp(self) -> None:
        super().setUp()
        self.count_requests()

    def test_boot_and_delete(self) -> None:
        self.start_accelerator_compute()
        self.boot_and_delete({
            'resources:PGPU=2 + trait': self.accelerator_flavor(2),
            'no accelerators (baseline)': self.plain_flavor()})


class VgpuBootCost(_BootCost, nova_services.AcceleratorServicesTestBase):
    """Our driver, a vGPU server (an H200 slice made when bound, through
    the agent's command, and deleted with the server) against a whole-GPU
    server (an H100) on another compute host of the same services."""

    def setUp(self) -> None:
        super().setUp()
        self.count_requests()

    def test_boot_and_delete(self) -> None:
        self.start_vgpu_compute(
            [catalog.nvidia_h200_vgpu('0000:41:00.0', vfs=8)],
            ('{"product_id": "2335", "vgpu_profiles": '
             '{"NVIDIA H200X-1-18C": 7}}',))
        self.start_accelerator_compute()
        self.boot_and_delete({
            VGPU_ROW: self.vgpu_flavor('CUSTOM_VGPU_NVIDIA_H200X_1_18C'),
            WHOLE_ROW: self.accelerator_flavor(1)})


class StockNovaBootCost(_BootCost, nova_services.StockNovaServicesTestBase):
    """Stock Nova and its Cyborg client on the API's ``/v2``."""

    def setUp(self) -> None:
        super().setUp()
        self.count_requests()

    def test_boot_and_delete(self) -> None:
        self.start_gpu_compute()
        self.boot_and_delete({
            'accel:device_profile (stock Nova)': self.profile_flavor(
                self.device_profile(2)),
            'no accelerators (stock Nova)': self.plain_flavor()})


def _run_nova(workdir: pathlib.Path, repeat: int, case: str) -> list[dict]:
    placement = LocalPlacement(workdir / 'placement')
    placement_log = workdir / 'placement-access.log'
    placement_log.touch()
    placement.argv[-1:-1] = ['--access-logfile', str(placement_log)]
    placement.start()
    api = ApiServer(workdir / 'api', f'sqlite:///{workdir}/api.sqlite',
                    placement.url, workers=1)
    outcome_path = workdir / 'outcome.json'
    try:
        api.start()
        env = {nova_services.PLACEMENT_URL: placement.url,
               nova_services.API_URL: api.url,
               nova_services.WORKDIR: str(workdir / 'nova'),
               FIGURES: str(workdir / 'figures.json'), REPEAT: str(repeat),
               PLACEMENT_LOG: str(placement_log),
               'PYTHONPATH': str(REPO)}
        done = subprocess.run(
            [sys.executable, '-m', 'tools.harness.nova_services',
             str(outcome_path), 'benchmarks.nova_boot', case], cwd=REPO,
            capture_output=True, text=True, env=dict(os.environ, **env))
    finally:
        api.stop()
        placement.stop()
    if not outcome_path.exists():
        raise SystemExit(f'the Nova process ended ({done.returncode}) '
                         f'without an outcome:\n{done.stderr[-4000:]}')
    outcome = json.loads(outcome_path.read_text())[case.rsplit('.', 1)[1]]
    if outcome['outcome'] != 'success':
        raise SystemExit(f"{outcome['outcome']}: {outcome['detail'][-4000:]}")
    return json.loads((workdir / 'figures.json').read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    print(run_facts.header())
    figures = []
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            figures += _run_nova(pathlib.Path(tmp), args.repeat, case)
    print(f'median of {args.repeat} runs')
    print('| flavor | step | API requests | Placement requests '
          '(from Nova) | seconds |')
    print('|--------|------|-------------:|-------------------:|--------:|')
    rows = collections.defaultdict(list)
    for figure in figures:
        rows[figure['flavor'], figure['step']].append(figure)
    for (flavor, step), runs in rows.items():
        print(f'| {flavor} | {step} | '
              f"{statistics.median(r['api'] for r in runs):g} | "
              f"{statistics.median(r['placement'] for r in runs):g} "
              f"({statistics.median(r['placement_from_nova'] for r in runs):g})"
              ' | '
              f"{statistics.median(r['seconds'] for r in runs):.2f} |")
    vgpu, whole = rows[VGPU_ROW, 'spawn'], rows[WHOLE_ROW, 'spawn']

    def median(runs, key):
        return statistics.median(r[key] for r in runs)
    print(f'vGPU spawn / whole-GPU spawn: '
          f"{median(vgpu, 'seconds') / median(whole, 'seconds'):.2f}x "
          f"seconds, {median(vgpu, 'api'):g} / {median(whole, 'api'):g} API "
          f"and {median(vgpu, 'placement'):g} / "
          f"{median(whole, 'placement'):g} Placement requests")
    return 0


if __name__ == '__main__':
    sys.exit(main())
