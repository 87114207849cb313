"""Nova schedules onto the published pools with ordinary flavor extra specs.

The query is built by Nova's own scheduler code (``ResourceRequest`` from a
``RequestSpec`` whose flavor carries the extra specs, in a child process as in
nova-scheduler) and sent as Nova sends it: ``GET /allocation_candidates`` at
microversion 1.36, to the real Placement holding what the agent published.
"""
import pytest

from cyborg_agent.publish import pools
from cyborg_agent.publish import sync as placement_sync
from cyborg_placement.placement import client as placement_client
from tests.functional.compute_nodes import create_compute_node
from tests.functional.compute_nodes import units_from
from tools.harness import catalog
from tools.harness import nova_request

#: Flavors (extra specs) and request-level root traits the tests schedule.
REQUESTS = {
    'pgpu8': ({'resources:PGPU': '8'}, []),
    'pgpu9': ({'resources:PGPU': '9'}, []),
    'crypto': ({'resources1:CUSTOM_ACCEL_CRYPTO': '1',
                'trait1:CUSTOM_ACCEL_VENDOR_8086': 'required',
                'group_policy': 'none'}, []),
    'fpga': ({'resources1:FPGA': '1',
              'trait1:CUSTOM_ACCEL_PRODUCT_8086_09C4': 'required'}, []),
    'not_h100': ({'resources1:PGPU': '1',
                  'trait1:CUSTOM_ACCEL_PRODUCT_10DE_2330': 'forbidden'}, []),
    't4': ({'resources1:PGPU': '2',
            'trait1:CUSTOM_ACCEL_PRODUCT_10DE_1EB8': 'required'}, []),
}
# The flavors of docs/operator-guide.md, exactly as written there.
REQUESTS['guide_not_t4'] = ({
    'resources1:PGPU': '1', 'trait1:CUSTOM_ACCEL_VENDOR_10DE': 'required',
    'trait1:CUSTOM_ACCEL_PRODUCT_10DE_1EB8': 'forbidden'}, [])
REQUESTS['guide_qat_and_gpu'] = ({
    'resources1:CUSTOM_ACCEL_CRYPTO': '1',
    'trait1:CUSTOM_ACCEL_VENDOR_8086': 'required',
    'resources2:PGPU': '1', 'group_policy': 'none'}, [])
REQUESTS['guide_gaudi2'] = ({
    'resources1:CUSTOM_ACCEL_AI': '1',
    'trait1:CUSTOM_ACCEL_PRODUCT_1DA3_1020': 'required'}, [])
REQUESTS['guide_2xh100'] = ({
    'resources:PGPU': '2',
    'trait:CUSTOM_ACCEL_PRODUCT_10DE_2330': 'required'}, [])
_NAMED = {'resources_GPU:PGPU': '2', 'trait_GPU:CUSTOM_ACCEL_GPU': 'required',
          'resources_QAT:CUSTOM_ACCEL_CRYPTO': '4', 'group_policy': 'isolate'}
REQUESTS['named_avx2'] = (_NAMED, ['HW_CPU_X86_AVX2'])
REQUESTS['named_avx512'] = (_NAMED, ['HW_CPU_X86_AVX512F'])

@pytest.fixture(scope='module')
def queries() -> dict[str, str]:
    """Nova's ``GET /allocation_candidates`` query string of each request."""
    return nova_request.allocation_candidate_queries(REQUESTS)


@pytest.fixture
def candidates(placement, queries):
    def get(request_name):
        return placement.get(
            f'/allocation_candidates?{queries[request_name]}',
            microversion=placement_client.NOVA_MICROVERSION)
    return get


def _publish(placement, tmp_path, host, functions):
    node = create_compute_node(placement, host)
    placement_sync.ProviderSync(placement, host).sync(
        units_from(tmp_path, functions))
    return node


def _pool(host, suffix):
    return pools.provider_uuid(host + suffix)


@pytest.fixture
def gpu_host(placement, tmp_path, unique_name):
    node = _publish(placement, tmp_path, unique_name, catalog.gpu_server())
    return unique_name, node


def test_nova_builds_the_query_from_the_flavor(queries):
    assert 'resources=DISK_GB%3A20%2CMEMORY_MB%3A8192%2CPGPU%3A8%2CVCPU%3A4' in (
        queries['pgpu8'])
    assert 'root_required=HW_CPU_X86_AVX2' in queries['named_avx2']


def test_eight_gpus_come_from_one_pool_provider(candidates, gpu_host):
    host, node = gpu_host
    found = candidates('pgpu8')

    (request,) = found['allocation_requests']
    allocations = request['allocations']
    gpus = _pool(host, '_GPU_10DE_2330')
    assert allocations[gpus]['resources'] == {'PGPU': 8}
    assert allocations[node]['resources'] == {
        'VCPU': 4, 'MEMORY_MB': 8192, 'DISK_GB': 20}
    assert candidates('pgpu9')['allocation_requests'] == []


def test_granular_crypto_request_with_vendor_trait(candidates, gpu_host):
    host, _ = gpu_host
    found = candidates('crypto')

    (request,) = found['allocation_requests']
    qat = _pool(host, '_CRYPTO_8086_4941')
    assert request['allocations'][qat]['resources'] == {
        'CUSTOM_ACCEL_CRYPTO': 1}
    assert request['mappings']['1'] == [qat]


def test_fpga_by_product_trait(placement, candidates, tmp_path, unique_name):
    _publish(placement, tmp_path, unique_name,
             [catalog.intel_pac_arria10('0000:3b:00.0')])
    found = candidates('fpga')
    (request,) = found['allocation_requests']
    fpga = _pool(unique_name, '_FPGA_8086_09C4')
    assert request['allocations'][fpga]['resources'] == {'FPGA': 1}


def test_forbidden_trait_finds_nothing(candidates, gpu_host):
    assert candidates('not_h100')['allocation_requests'] == []


def test_only_the_host_with_the_requested_product_matches(
        placement, candidates, tmp_path, unique_name):
    _publish(placement, tmp_path, unique_name + '-h100', catalog.gpu_server())
    t4_host = unique_name + '-t4'
    t4_node = _publish(placement, tmp_path, t4_host, [
        catalog.nvidia_t4('0000:3b:00.0'), catalog.nvidia_t4('0000:3c:00.0')])

    found = candidates('t4')

    (request,) = found['allocation_requests']
    assert set(request['allocations']) == {
        t4_node, _pool(t4_host, '_GPU_10DE_1EB8')}


def test_named_groups_and_root_required(candidates, gpu_host):
    host, _ = gpu_host
    found = candidates('named_avx2')
    (request,) = found['allocation_requests']
    assert request['mappings']['_GPU'] == [_pool(host, '_GPU_10DE_2330')]
    assert request['mappings']['_QAT'] == [_pool(host, '_CRYPTO_8086_4941')]

    # The compute node lacks this trait (Nova owns the root's traits).
    assert candidates('named_avx512')['allocation_requests'] == []


def test_operator_guide_flavors(placement, candidates, tmp_path, unique_name):
    """Every flavor of docs/operator-guide.md finds the pool it means."""
    mixed = unique_name + '-mixed'
    _publish(placement, tmp_path, mixed, catalog.gpu_server(gpus=2) + [
        catalog.nvidia_t4('0000:3b:00.0'),
        catalog.habana_gaudi2('0000:4c:00.0')])
    h100 = _pool(mixed, '_GPU_10DE_2330')

    (request,) = candidates('guide_2xh100')['allocation_requests']
    assert request['allocations'][h100]['resources'] == {'PGPU': 2}

    found = candidates('guide_not_t4')['allocation_requests']
    assert [r['mappings']['1'] for r in found] == [[h100]]

    found = candidates('guide_qat_and_gpu')['allocation_requests']
    assert {r['mappings']['1'][0] for r in found} == {
        _pool(mixed, '_CRYPTO_8086_4941')}
    assert {r['mappings']['2'][0] for r in found} == {
        h100, _pool(mixed, '_GPU_10DE_1EB8')}

    (request,) = candidates('guide_gaudi2')['allocation_requests']
    assert request['mappings']['1'] == [_pool(mixed, '_AI_1DA3_1020')]
