"""/openapi.json describes exactly the routes the app serves."""
import re

from cyborg_placement.api import openapi
from cyborg_placement.api import routes
from cyborg_placement.api import views
from cyborg_placement.db import models


def test_every_route_is_described_and_nothing_else():
    served = {(re.sub(r'<(\w+)>', r'{\1}', path), method.lower())
              for path, methods in routes.ROUTES.items() for method in methods}
    assert set(openapi.OPERATIONS) == served


def test_write_operations_carry_the_schemas_handlers_validate_with():
    document = openapi.document()
    attach = document['paths']['/accelerators/{uuid}']['put']
    schema = attach['requestBody']['content']['application/json']['schema']
    assert schema['additionalProperties'] is False
    assert schema['properties']['instance_uuid']['format'] == 'uuid'
    assert document['paths']['/healthcheck']['get']['security'] == []


def test_operations_are_named_as_their_handlers_and_links_resolve():
    handlers = {(re.sub(r'<(\w+)>', r'{\1}', path), method.lower()):
                handler.__name__ for path, methods in routes.ROUTES.items()
                for method, handler in methods.items()}
    assert {key: op['operationId'] for key, op in
            openapi.OPERATIONS.items()} == handlers
    for operation in openapi.OPERATIONS.values():
        for response in operation['responses'].values():
            for link in response.get('links', {}).values():
                assert link['operationId'] in handlers.values()


def test_parameters_carry_the_limits_handlers_check():
    paths = openapi.document()['paths']
    report = paths['/hosts/{host}/accelerators']['parameters'][0]
    assert report['schema']['maxLength'] == 242
    listing = {p['name']: p['schema']
               for p in paths['/accelerators']['get']['parameters']}
    assert listing['state']['maxLength'] == 16
    assert listing['limit']['maximum'] == 1000


def test_the_attachment_schema_lists_what_the_api_shows():
    record = models.Attachment(
        uuid='a1', agent_host='h1', state=models.DETACHED,
        active_accelerator_id=None, api_claim=True, host_revision=1,
        accelerator=models.Accelerator(uuid='x1', pci_address='0000:3b:00.0'))
    shown = views.attachment(record)
    assert set(shown) == set(openapi.ATTACHMENT['properties'])
    assert shown['holds_accelerator'] is False
