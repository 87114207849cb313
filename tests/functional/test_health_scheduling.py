"""Unhealthy and disabled units are never scheduled, with the real parts.

The real ``cyborg-agent --once`` (each cycle a fresh process, as after a
restart) on sysfs trees of real ids that fail as devices do, with an
``nvidia-smi`` executable on PATH printing the XML of GPUs in error states;
the real Placement; the real API; Nova's own scheduling query
(``ResourceRequest``) and the real ``openstack`` executable.
"""
import os

import pytest

from cyborg_agent.publish import pools
from cyborg_placement.placement import client as placement_client
from tests.functional.cli_runner import noauth_args
from tests.functional.cli_runner import openstack
from tests.functional.compute_nodes import create_compute_node
from tools.harness import catalog
from tools.harness import nova_request
from tools.harness import nvidia_smi
from tools.harness import sysfs_tree
from tools.harness.agent_host import accelerator
from tools.harness.agent_host import AgentHost
from tools.harness.agent_host import instance_on
from tools.harness.agent_host import reserved
from tools.harness.api_server import ApiServer

GPUS = ('0000:18:00.0', '0000:28:00.0')
QAT = '0000:6b:00.0'
H100 = {'resources1:PGPU': '1',
        'trait1:CUSTOM_ACCEL_PRODUCT_10DE_2330': 'required'}


@pytest.fixture(scope='module')
def queries() -> dict[str, str]:
    """Nova's query for a flavor of one H100, and of two."""
    return nova_request.allocation_candidate_queries({
        'one': (H100, []), 'two': ({'resources:PGPU': '2'}, [])})


def offered(placement, queries, name: str) -> set[str]:
    """The providers Placement offers Nova for a flavor."""
    answer = placement.get(f'/allocation_candidates?{queries[name]}',
                           microversion=placement_client.NOVA_MICROVERSION)
    return {provider for request in answer['allocation_requests']
            for provider in request['allocations']}


def make_host(placement, tmp_path, name, api_url, placement_url, functions,
              **agent) -> AgentHost:
    create_compute_node(placement, name)
    tree = sysfs_tree.build(tmp_path / 'sys', functions)
    bin_dir = tmp_path / 'bin'
    nvidia_smi.install(bin_dir, [nvidia_smi.GpuState(a) for a in GPUS])
    host = AgentHost(name, tmp_path, tree, api_url, placement_url,
                     env={'PATH': f'{bin_dir}:{os.environ["PATH"]}'},
                     agent_options={'health_recovery_cycles': 2, **agent})
    host.write_conf()
    host.settle()
    return host


@pytest.fixture
def gpu_host(placement, placement_server, api_server, tmp_path, unique_name):
    return make_host(placement, tmp_path, unique_name, api_server.url,
                     placement_server.url,
                     [catalog.nvidia_h100_sxm(a) for a in GPUS])


def gpu_pool(host: AgentHost) -> str:
    return pools.provider_uuid(f'{host.name}_GPU_10DE_2330')


def test_reserved_follows_aer_errors_and_recovers_after_quiet_cycles(
        placement, queries, gpu_host, admin):
    pool = gpu_pool(gpu_host)
    assert reserved(placement, pool) == 0
    assert pool in offered(placement, queries, 'two')

    gpu_host.sysfs.set_aer(GPUS[0], nonfatal={'CmpltTO': 1})
    gpu_host.settle()
    assert reserved(placement, pool) == 1
    assert pool not in offered(placement, queries, 'two')
    assert pool in offered(placement, queries, 'one')
    shown = accelerator(admin, gpu_host.name, GPUS[0])
    assert (shown['health'], shown['health_reason']) == (
        'unhealthy', f'AER aer_dev_nonfatal of {GPUS[0]} grew from 0 to 1')
    since = shown['health_since']

    gpu_host.settle()  # quiet, 1 of 2
    assert reserved(placement, pool) == 1
    assert accelerator(admin, gpu_host.name, GPUS[0])['health_since'] == since

    gpu_host.settle()  # quiet, 2 of 2
    assert reserved(placement, pool) == 0
    assert pool in offered(placement, queries, 'two')
    back = accelerator(admin, gpu_host.name, GPUS[0])
    assert (back['health'], back['health_reason']) == ('healthy', None)
    assert back['health_since'] > since


def test_the_only_free_unit_turning_unhealthy_hides_the_pool_and_is_never_bound(
        placement, queries, gpu_host, api_server, admin):
    pool = gpu_pool(gpu_host)
    instance = instance_on(placement, gpu_host.name)
    consumer = placement.get(f'/allocations/{instance}', microversion='1.38')
    allocations = {rp: {'resources': a['resources']}
                   for rp, a in consumer['allocations'].items()}
    allocations[pool] = {'resources': {'PGPU': 1}}  # as Nova's scheduler
    placement.put(f'/allocations/{instance}', {
        'allocations': allocations, 'project_id': 'p1', 'user_id': 'u1',
        'consumer_generation': consumer['consumer_generation'],
        'consumer_type': 'INSTANCE'}, microversion='1.38')
    assert pool in offered(placement, queries, 'one')

    bin_dir = gpu_host.workdir / 'bin'
    nvidia_smi.set_states(bin_dir, [
        nvidia_smi.GpuState(GPUS[0], remapped_row_pending=True),
        nvidia_smi.GpuState(GPUS[1])])
    gpu_host.settle()
    assert reserved(placement, pool) == 1
    assert pool not in offered(placement, queries, 'one')

    service = api_server.client(token='agent', roles='service')
    bound = service.put(f'/instances/{instance}/bindings',
                        json={'host': gpu_host.name})
    assert bound.status_code == 200, bound.text
    assert [b['pci_address'] for b in bound.json()['bindings']] == [GPUS[1]]

    # The held unit turns unhealthy: its holder keeps it, everyone sees it.
    nvidia_smi.set_states(bin_dir, [
        nvidia_smi.GpuState(GPUS[0], remapped_row_pending=True),
        nvidia_smi.GpuState(GPUS[1], dram_uncorrectable=1,
                            recovery_action='Reset')])
    done = gpu_host.settle()
    assert f'Unit {GPUS[1]} turned unhealthy while held' in done.stderr
    held = accelerator(admin, gpu_host.name, GPUS[1])
    assert held['health'] == 'unhealthy'
    assert 'recovery action required: Reset' in held['health_reason']
    assert held['attachment']['instance_uuid'] == instance
    assert held['attachment']['holds_accelerator']
    cli = openstack(*noauth_args(api_server.url), 'accelerator', 'list',
                    '--host', gpu_host.name, '--health', 'unhealthy',
                    '--long', '-f', 'json')
    assert cli.returncode == 0, cli.stderr
    assert [(r['PCI Address'], r['Attached To'], r['Health'])
            for r in cli.json()] == [
        (GPUS[0], None, 'unhealthy'),
        (GPUS[1], f'instance {instance}', 'unhealthy')]
    again = service.put(f'/instances/{instance}/bindings',
                        json={'host': gpu_host.name}).json()['bindings']
    assert [b['pci_address'] for b in again] == [GPUS[1]]
    inventory = placement.get(f'/resource_providers/{pool}/inventories')[
        'inventories']['PGPU']
    assert (inventory['total'], inventory['reserved']) == (2, 1)

    sick = accelerator(admin, gpu_host.name, GPUS[0])
    refused = admin.put(f'/accelerators/{sick["uuid"]}',
                        json={'host': gpu_host.name})
    assert refused.status_code == 409
    assert refused.json()['errors'][0]['code'] == (
        'accelerator.attach.unschedulable')
    assert 'remapped rows pending' in refused.json()['errors'][0]['detail']


def test_a_vf_lost_under_its_pf_stays_counted_and_reserved(
        placement, placement_server, api_server, admin, tmp_path,
        unique_name):
    host = make_host(placement, tmp_path, unique_name, api_server.url,
                     placement_server.url, [catalog.intel_qat_4xxx(QAT, vfs=4)])
    pool = pools.provider_uuid(f'{unique_name}_CRYPTO_8086_4941')
    lost = catalog._vf_address(QAT, 2)
    host.sysfs.lose_function(lost)
    host.settle()
    inventory = placement.get(f'/resource_providers/{pool}/inventories')[
        'inventories']['CUSTOM_ACCEL_CRYPTO']
    assert (inventory['total'], inventory['reserved']) == (4, 1)
    shown = accelerator(admin, unique_name, lost)
    assert (shown['state'], shown['health']) == ('available', 'unhealthy')
    assert 'gone from sysfs' in shown['health_reason']

    host.sysfs.set_aer(QAT, fatal={'DLP': 1})  # the PF takes its VFs along
    host.settle()
    assert reserved(placement, pool) == 4


def test_disable_and_enable_with_the_openstack_cli_survive_restarts(
        placement, placement_server, tmp_path, unique_name):
    api = ApiServer(tmp_path / 'api', f'sqlite:///{tmp_path}/cyborg.sqlite',
                    placement_server.url)
    (tmp_path / 'api').mkdir()
    api.start()
    try:
        host = make_host(placement, tmp_path, unique_name, api.url,
                         placement_server.url,
                         [catalog.nvidia_h100_sxm(a) for a in GPUS])
        cli = noauth_args(api.url)
        uuid = accelerator(api.client(), unique_name, GPUS[0])['uuid']
        refused = openstack(*cli, 'accelerator', 'set', uuid, '--reason',
                            'RMA')
        assert refused.returncode != 0
        assert '--reason goes with --disable' in refused.stderr

        done = openstack(*cli, 'accelerator', 'set', uuid, '--disable',
                         '--reason', 'RMA 4711', '-f', 'json')
        assert done.returncode == 0, done.stderr
        assert (done.json()['disabled'], done.json()['disabled_reason']) == (
            True, 'RMA 4711')
        host.settle()  # a fresh agent learns it from its host's feed
        assert reserved(placement, gpu_pool(host)) == 1

        api.stop()
        api.start()
        host.settle()
        assert reserved(placement, gpu_pool(host)) == 1
        listed = openstack(*cli, 'accelerator', 'list', '--host', unique_name,
                           '--long', '-f', 'json').json()
        row = next(r for r in listed if r['UUID'] == uuid)
        assert (row['Health'], row['Why']) == ('healthy, disabled',
                                               'RMA 4711')
        attach = api.client().put(f'/accelerators/{uuid}',
                                  json={'host': unique_name})
        assert attach.status_code == 409
        assert 'is disabled (RMA 4711)' in attach.json()['errors'][0][
            'detail']

        enabled = openstack(*cli, 'accelerator', 'set', uuid, '--enable',
                            '-f', 'json')
        assert enabled.returncode == 0, enabled.stderr
        assert enabled.json()['disabled'] is False
        host.settle()
        assert reserved(placement, gpu_pool(host)) == 0
    finally:
        api.stop()
