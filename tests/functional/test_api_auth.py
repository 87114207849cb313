"""With the default auth_strategy (keystone) keystonemiddleware guards the API."""
import requests

from tools.harness.api_server import ApiServer


def test_keystone_strategy_refuses_requests_without_a_token(
        placement_server, tmp_path):
    server = ApiServer(tmp_path, f'sqlite:///{tmp_path}/cyborg.sqlite',
                       placement_server.url, workers=1,
                       auth_strategy='keystone', sections={
                           'keystone_authtoken': {
                               'www_authenticate_uri':
                                   'http://127.0.0.1:9/identity'}})
    server.start()
    try:
        refused = requests.get(server.url + '/accelerators')
        assert refused.status_code == 401
        assert requests.get(server.url + '/healthcheck').status_code == 200
        assert requests.get(server.url + '/').status_code == 200
    finally:
        server.stop()
