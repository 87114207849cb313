"""Run the real ``openstack`` executable, and give a host accelerators to attach.

The environment is cleaned of ``OS_*`` variables, so only the arguments a test
passes decide endpoint and auth, as on an operator's fresh shell.
"""
import dataclasses
import json
import os
import pathlib
import subprocess
import sys

from cyborg_agent import report
from cyborg_agent.publish import sync as placement_sync
from tests.functional.compute_nodes import create_compute_node
from tests.functional.compute_nodes import units_from
from tools.harness import catalog

OPENSTACK = str(pathlib.Path(sys.executable).parent / 'openstack')


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith('OS_')}


@dataclasses.dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def openstack(*args: str, env: dict | None = None) -> Result:
    done = subprocess.run([OPENSTACK, *args], env=env or clean_env(),
                          capture_output=True, text=True, timeout=120)
    return Result(done.returncode, done.stdout, done.stderr)


def noauth_args(api_url: str) -> list[str]:
    """A local noauth API through an endpoint override, as docs/cli.md says."""
    return ['--os-auth-type', 'admin_token', '--os-endpoint', api_url,
            '--os-token', 'admin']


def publish_gpus(placement, api_client, tmp_path, host: str,
                 count: int = 2) -> list[dict]:
    """A compute node with ``count`` T4 GPUs: published, then reported.

    The agent's two steps with the real code: the pool goes into Placement
    (ProviderSync) and the units into the API (the device report).
    """
    create_compute_node(placement, host)
    functions = [catalog.nvidia_t4(f'0000:{0x3b + i:02x}:00.0')
                 for i in range(count)]
    units = units_from(tmp_path, functions)
    published = placement_sync.ProviderSync(placement, host).sync(units)
    response = api_client.put(f'/hosts/{host}/accelerators',
                              json=report.build_report(units, published))
    assert response.status_code == 200, response.text
    return response.json()['accelerators']
