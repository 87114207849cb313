"""Request schemas: unknown fields, wrong types and bad uuids are refused."""
import jsonschema
import pytest

from cyborg_placement.api.schemas import accelerators
from cyborg_placement.api.schemas import attachments
from cyborg_placement.api.schemas import hosts

CHECKER = jsonschema.FormatChecker()


def _valid(schema, body):
    return jsonschema.Draft202012Validator(
        schema, format_checker=CHECKER).is_valid(body)


@pytest.mark.parametrize('schema,body,ok', [
    (accelerators.CREATE, {'name': 'card'}, True),
    (accelerators.CREATE, {'name': 'card', 'colour': 'red'}, False),
    (accelerators.CREATE, {'name': 7}, False),
    (accelerators.CREATE, {'name': 'card', 'uuid': 'not-a-uuid'}, False),
    (accelerators.CREATE_WITH_UUID, {'name': 'c', 'uuid': None}, False),
    (accelerators.UPDATE_SPECS, {'acc_specs': {'remote': 2}}, False),
    (accelerators.UPDATE_SPECS, {'acc_specs': {'firmware': 'x'}}, True),
    (accelerators.ATTACH, {'instance_uuid': '8e45a2ea-5364-4b0d-a252-bf8becaa606e'},
     True),
    (accelerators.ATTACH, {'host': 'h', 'instance_uuid':
                     '8e45a2ea-5364-4b0d-a252-bf8becaa606e'}, False),
    (accelerators.ATTACH, {}, False),
    (attachments.ATTACHMENT_STATE, {'state': 'attaching'}, False),
    (hosts.DEVICE_REPORT, {'accelerators': [{'pci_address': 'zz'}]}, False),
])
def test_schema(schema, body, ok):
    assert _valid(schema, body) is ok
