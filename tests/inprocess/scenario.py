"""What handler tests start from: a host the agent reported, whose pool is
in Placement, and instances Nova placed on it."""
import uuid

from cyborg_placement.placement.client import PlacementClient
from tools.harness.api_server import make_host

HOST = 'compute-1'


def reported_host(placement: PlacementClient, service, host: str = HOST,
                  units: int = 2) -> dict:
    """``make_host``'s pool in Placement, reported by the host's agent.

    Returns ``{'root', 'pool', 'report', 'name', 'uuids'}``.
    """
    made = make_host(placement, host, units)
    answer = service.put(f'/hosts/{host}/accelerators', json=made['report'])
    assert answer.status_code == 200, answer.json
    return dict(made, name=host,
                uuids=[a['uuid'] for a in answer.json['accelerators']])


def add_fpga_pool(placement: PlacementClient, host: dict) -> list[dict]:
    """A second pool under ``make_host``'s compute node, two FPGA units
    (``host['fpga_pool']``); returns their device report entries."""
    root = placement.get(f'/resource_providers/{host["root"]}')
    pool = placement.post('/resource_providers', {
        'name': f'{root["name"]}_FPGA_8086_0B30', 'uuid': str(uuid.uuid4()),
        'parent_provider_uuid': host['root']})
    placement.put(f'/resource_providers/{pool["uuid"]}/inventories', {
        'resource_provider_generation': pool['generation'],
        'inventories': {'FPGA': {'total': 2, 'max_unit': 2}}})
    host['fpga_pool'] = pool['uuid']
    return [{'pci_address': f'0000:5e:00.{n}', 'vendor_id': '8086',
             'product_id': '0b30', 'device_type': 'FPGA',
             'pool_provider_uuid': pool['uuid'], 'resource_class': 'FPGA',
             'numa_node': 0, 'driver': 'vfio-pci'} for n in range(2)]


def gpu_and_fpga_host(placement: PlacementClient, host: str, gpus: int = 2
                      ) -> dict:
    """``make_host``'s GPU pool and ``add_fpga_pool``'s, with the device
    report of both (``report``)."""
    made = make_host(placement, host, gpus)
    fpgas = add_fpga_pool(placement, made)
    made['report'] = {'accelerators': made['report']['accelerators'] + fpgas}
    return made


#: mdev units of an A100's VF, and the UUID its agent gave each.
MDEV_UUIDS = ['c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e80',
              'c4b2e8a5-0f3e-4d0a-9d1e-3a4b5c6d7e81']


def vgpu_host(placement: PlacementClient, host: str,
              interface: str = 'mdev') -> dict:
    """``make_host`` with a VGPU pool of two VFs of one GPU, one unit each
    (``interface`` mdev: A100 type nvidia-692; vfio: H200 type 1414), and
    their device report."""
    made = make_host(placement, host, 2, resource_class='VGPU')
    for n, unit in enumerate(made['report']['accelerators']):
        unit.update(pci_address=f'0000:41:00.{n + 4}',
                    parent_address='0000:41:00.0', vgpu_interface=interface,
                    driver='nvidia')
        if interface == 'mdev':
            unit.update(vgpu_type='nvidia-692', vgpu_profile='GRID A100-4C',
                        mdev_uuid=MDEV_UUIDS[n])
        else:
            unit.update(vgpu_type='1414', vgpu_profile='NVIDIA H200X-1-18C')
    return made


def add_vcpus(placement: PlacementClient, host: dict) -> dict:
    """Give a reported host's compute node VCPUs to allocate."""
    provider = placement.get(f'/resource_providers/{host["root"]}')
    placement.put(f'/resource_providers/{host["root"]}/inventories', {
        'resource_provider_generation': provider['generation'],
        'inventories': {'VCPU': {'total': 64}}})
    return host


def allocate(placement: PlacementClient, consumer: str, allocations: dict,
             project: str = 'p1', consumer_type: str = 'INSTANCE') -> None:
    """Set the consumer's allocations as Nova does (empty: delete them)."""
    current = placement.get(f'/allocations/{consumer}', microversion='1.38')
    placement.put(f'/allocations/{consumer}', {
        'allocations': allocations,
        'consumer_generation': current.get('consumer_generation'),
        'project_id': project, 'user_id': 'u1',
        'consumer_type': consumer_type}, microversion='1.38')


def schedule(placement: PlacementClient, host: dict, units: int,
             instance: str | None = None, project: str = 'p1',
             resource_class: str = 'PGPU') -> str:
    """An instance Nova placed on ``host``: VCPU on the compute node and
    ``units`` of the pool, in one allocation."""
    instance = instance or str(uuid.uuid4())
    allocations = {host['root']: {'resources': {'VCPU': 2}}}
    if units:
        allocations[host['pool']] = {'resources': {resource_class: units}}
    allocate(placement, instance, allocations, project)
    return instance


def schedule_gpu_and_fpga(placement: PlacementClient, host: dict) -> str:
    """An instance Nova placed on a host with ``add_fpga_pool``: VCPU, a
    GPU and an FPGA, in one allocation."""
    add_vcpus(placement, host)
    instance = str(uuid.uuid4())
    allocate(placement, instance, {
        host['root']: {'resources': {'VCPU': 2}},
        host['pool']: {'resources': {'PGPU': 1}},
        host['fpga_pool']: {'resources': {'FPGA': 1}}})
    return instance


def instance(placement: PlacementClient, root: str, project: str = 'p1'
             ) -> str:
    """An instance Nova scheduled onto ``root``: its own VCPU allocation."""
    instance_uuid = str(uuid.uuid4())
    add_vcpus(placement, {'root': root})
    placement.put(f'/allocations/{instance_uuid}', {
        'allocations': {root: {'resources': {'VCPU': 2}}},
        'consumer_generation': None, 'project_id': project,
        'user_id': 'u1', 'consumer_type': 'INSTANCE'}, microversion='1.38')
    return instance_uuid


def units_held(placement: PlacementClient, consumer: str, pool: str) -> int:
    """PGPU units ``consumer`` holds in ``pool``."""
    found = placement.get(f'/allocations/{consumer}')['allocations']
    return found.get(pool, {}).get('resources', {}).get('PGPU', 0)


def code(answer) -> str:
    """The error code of an error response."""
    return answer.json['errors'][0]['code']


def v2(client, version: str | None = '2.3'):
    """``client`` speaking to the /v2 subset at ``version`` (None: no
    version header, as Nova sends)."""
    client.environ_base.pop('HTTP_OPENSTACK_API_VERSION', None)
    if version is not None:
        client.environ_base['HTTP_OPENSTACK_API_VERSION'] = (
            f'accelerator {version}')
    return client
