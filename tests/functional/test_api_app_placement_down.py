"""Placement unreachable is the one case of 503; nothing is lost meanwhile."""
from tools.harness.api_server import ApiServer
from tools.harness.server_process import free_port


def test_attach_with_placement_down_is_503_and_the_record_waits(tmp_path):
    # Recovery at once: a detach then asks Placement whether the claim
    # exists (an attach younger than attach_recovery_seconds may still be
    # under way in another worker, and its detach is a 409 instead).
    server = ApiServer(tmp_path, f'sqlite:///{tmp_path}/cyborg.sqlite',
                       f'http://127.0.0.1:{free_port()}', workers=1,
                       api_options={'attach_recovery_seconds': 0})
    server.start()
    try:
        service = server.client(token='s', roles='service')
        report = {'accelerators': [{
            'pci_address': '0000:3b:00.0', 'vendor_id': '10de',
            'product_id': '2330', 'device_type': 'GPU',
            'pool_provider_uuid': '6f1c1a57-5b0c-5f0e-8a43-2a0d3c1f6a01',
            'resource_class': 'PGPU'}]}
        [accelerator] = service.put('/hosts/h1/accelerators',
                                    json=report).json()['accelerators']
        admin = server.client()
        path = f'/accelerators/{accelerator["uuid"]}'
        refused = admin.put(path, json={'host': 'h1'})
        assert refused.status_code == 503
        assert refused.json()['errors'][0]['code'] == 'placement.unavailable'
        # The record stays until Placement can say whether the claim exists.
        assert admin.get(path).json()['attachment']['state'] == 'attaching'
        assert admin.delete(path).status_code == 503
        assert admin.put(path, json={'host': 'h1'}).status_code == 409
        # The host's feed is still served: its repair pass waits for Placement.
        feed = service.get('/hosts/h1/attachments')
        assert feed.status_code == 200
        assert [a['state'] for a in feed.json()['attachments']] == []
    finally:
        server.stop()
