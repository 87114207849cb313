"""/openapi.json describes exactly the routes the app serves."""
import re

from cyborg_placement.api import openapi
from cyborg_placement.api import routes


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
