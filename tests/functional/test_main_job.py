"""The README's main-job command, run as a newcomer would: in a fresh clone.

``tools/run-local.sh`` installs what it needs into the clone, starts a local
Placement, the API and the agent, and shows the tree, Nova's query and an
attach and detach by REST and by CLI. The test reads its output, then asks
Placement and the API directly whether what it says is true, and stops it.
"""
import os
import pathlib
import re
import subprocess

import pytest
import requests

from cyborg_placement.placement import hostname
from tests.conftest import remove_virtualenv
from tools.harness.server_process import free_port

REPO = pathlib.Path(__file__).resolve().parents[2]
PLACEMENT = {'X-Auth-Token': 'admin', 'OpenStack-API-Version': 'placement 1.39'}
API = {'X-Auth-Token': 'admin', 'OpenStack-API-Version': 'accelerator 1.0'}


@pytest.fixture(scope='module')
def main_job(tmp_path_factory):
    clone = tmp_path_factory.mktemp('fresh') / 'clone'
    subprocess.run(['git', 'clone', '-q', str(REPO), str(clone)], check=True)
    state = clone / '.local'
    ports = {'placement': free_port(), 'api': free_port()}
    command = [str(clone / 'tools' / 'run-local.sh'), '--state-dir',
               str(state), '--placement-port', str(ports['placement']),
               '--api-port', str(ports['api'])]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'VIRTUAL_ENV'))}
    try:
        run = subprocess.run(command, capture_output=True, text=True,
                             env=env, timeout=1500)
        yield run, ports, state, clone
    finally:
        subprocess.run(command[:1] + ['--stop', '--state-dir', str(state)],
                       capture_output=True, env=env, timeout=300)
        remove_virtualenv(clone / '.venv')


@pytest.mark.timeout(1800)
def test_main_job_output_tells_the_whole_story(main_job):
    run, _, state, _ = main_job
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    root = hostname.libvirt_hostname()
    assert 'SAMPLE HOST' in out  # no accelerators on the test machines
    assert f'{root}_GPU_10DE_2330' in out
    assert 'inventory PGPU: total=8 reserved=0 max_unit=8' in out
    assert 'inventory CUSTOM_ACCEL_CRYPTO: total=32' in out
    assert 'CUSTOM_ACCEL_PRODUCT_10DE_2330' in out and 'OWNER_CYBORG' in out
    assert re.search(r'GET /allocation_candidates\?\S*resources=PGPU%3A2', out)
    assert f'1 candidate(s), providers: {root}_GPU_10DE_2330' in out
    assert f'1 candidate(s), providers: {root}_CRYPTO_8086_4941' in out
    assert out.count('the agent reports: attached') == 2
    assert out.count('the agent reports: detached') == 2
    assert 'driver_override: vfio-pci' in out
    assert '$ openstack accelerator attach' in out
    assert 'stop them with: ' in out and '--stop' in out


@pytest.mark.timeout(1800)
def test_services_keep_running_and_agree(main_job):
    run, ports, state, _ = main_job
    assert run.returncode == 0, run.stderr[-3000:]
    root = hostname.libvirt_hostname()
    placement = f'http://127.0.0.1:{ports["placement"]}'
    api = f'http://127.0.0.1:{ports["api"]}'

    providers = requests.get(f'{placement}/resource_providers',
                             headers=PLACEMENT).json()['resource_providers']
    names = {p['name']: p for p in providers}
    assert {root, f'{root}_GPU_10DE_2330',
            f'{root}_CRYPTO_8086_4941'} <= set(names)
    gpu_pool = names[f'{root}_GPU_10DE_2330']['uuid']
    usages = requests.get(f'{placement}/resource_providers/{gpu_pool}/usages',
                          headers=PLACEMENT).json()['usages']
    assert usages == {'PGPU': 0}  # both attaches were detached again

    listed = requests.get(f'{api}/accelerators?host={root}',
                          headers=API).json()['accelerator']
    assert len(listed) == 8 + 2 * 16
    ended = [a for a in listed if a['attachment']]
    assert ended and all(a['attachment']['state'] == 'detached'
                         for a in ended)
    assert {a['pool_provider_uuid'] for a in listed} == {
        gpu_pool, names[f'{root}_CRYPTO_8086_4941']['uuid']}
    for name in ('placement', 'api', 'agent'):
        assert (state / f'{name}.pid').exists()
