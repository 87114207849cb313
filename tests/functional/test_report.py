"""The agent's device report, sent by cyborg_agent.report to a running API."""
import pytest

from cyborg_agent import api_client
from cyborg_agent import report
from cyborg_agent.publish import pools
from cyborg_agent.publish import tree
from cyborg_placement.vocabulary import Unit
from tests.conftest import make_conf
from tools.harness import ini


@pytest.fixture
def adapter(api_server, tmp_path):
    conf = make_conf(tmp_path,
                     {'accelerator_api': ini.token_auth(api_server.url)})
    assert api_client.is_configured(conf)
    return api_client.make_adapter(conf)


def _tree(host: str, units: list[Unit]) -> dict:
    """The pools the sync would publish (this API does not ask Placement)."""
    return tree.build(host, pools.provider_uuid(host), units)


UNITS = [Unit('0000:3B:00.0', '10de', '2330', 'GPU', numa_node=0),
         Unit('0000:3c:00.0', '10de', '2330', 'GPU', numa_node=1),
         Unit('0000:5e:00.1', '8086', '4941', 'CRYPTO', driver='vfio-pci')]


def test_report_creates_records_in_their_pools_and_keeps_uuids(
        adapter, unique_name):
    body = report.build_report(UNITS, _tree(unique_name, UNITS))
    first = report.send_report(adapter, unique_name, body)
    gpu_pool = pools.provider_uuid(f'{unique_name}_GPU_10DE_2330')
    by_address = {a['pci_address']: a for a in first}
    assert by_address['0000:3b:00.0']['pool_provider_uuid'] == gpu_pool
    assert by_address['0000:5e:00.1']['resource_class'] == \
        'CUSTOM_ACCEL_CRYPTO'
    assert {a['state'] for a in first} == {'available'}

    again = report.send_report(adapter, unique_name, report.build_report(
        UNITS[:2], _tree(unique_name, UNITS[:2])))
    assert {a['pci_address']: a['uuid'] for a in again} == {
        address: by_address[address]['uuid']
        for address in ('0000:3b:00.0', '0000:3c:00.0')}


def test_a_refused_report_is_an_error_naming_the_reason(adapter,
                                                        unique_name):
    body = report.build_report(UNITS, _tree(unique_name, UNITS))
    body['accelerators'].append(dict(body['accelerators'][0]))
    with pytest.raises(api_client.ApiRefused, match='more than once'):
        report.send_report(adapter, unique_name, body)


def test_without_accelerator_api_options_nothing_is_configured(conf):
    assert not api_client.is_configured(conf)


@pytest.fixture
def service(api_server):
    return api_server.client(token='s', roles='service')


def _unit(**changes) -> dict:
    unit = {'pci_address': '0000:3b:00.0', 'vendor_id': '10de',
            'product_id': '2330', 'device_type': 'GPU',
            'pool_provider_uuid': '8e45a2ea-5364-4b0d-a252-bf8becaa606e',
            'resource_class': 'PGPU', 'numa_node': 0, 'driver': 'vfio-pci'}
    return {**unit, **changes}


@pytest.mark.parametrize('unit,fragment', [
    (_unit(numa_node=13667115162430283776), 'maximum of 2147483647'),
    (_unit(numa_node=2**31), 'maximum of 2147483647'),
    (_unit(driver='\udbe8'), 'lone surrogate'),
    (_unit(driver='vfio\x00'), 'NUL'),
    (_unit(driver='d' * 256), 'too long'),
    (_unit(pool_provider_uuid='8e45a2ea-5364-4b0d-a252-bf8becaa606e--'),
     'too long'),
])
def test_a_report_the_database_cannot_store_is_400(service, unique_name,
                                                    unit, fragment):
    response = service.put(f'/hosts/{unique_name}/accelerators',
                           json={'accelerators': [unit]})
    assert response.status_code == 400
    assert fragment in response.json()['errors'][0]['detail']
    assert service.get('/accelerators', params={
        'host': unique_name}).json() == {'accelerator': []}


@pytest.mark.parametrize('host,status,fragment,feed', [
    ('%C3%A3%C2%B1', 200, None, 200),
    ('a%00b', 400, 'NUL', 400),
    ('h' * 243, 400, 'longer than 242', 200),
    ('h' * 256, 400, 'longer than 242', 400),
])
def test_host_names_in_the_path(service, host, status, fragment, feed):
    """A unit is named "<host>:<PCI address>" in a 255-character column."""
    response = service.put(f'/hosts/{host}/accelerators',
                           json={'accelerators': [_unit()]})
    assert response.status_code == status
    if fragment:
        assert fragment in response.json()['errors'][0]['detail']
    assert service.get(f'/hosts/{host}/attachments').status_code == feed
