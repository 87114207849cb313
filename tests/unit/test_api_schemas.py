"""Request schemas: unknown fields, wrong types and bad uuids are refused."""
import jsonschema
import pytest

from cyborg_placement.api.schemas import accelerators
from cyborg_placement.api.schemas import attachments
from cyborg_placement.api.schemas import common
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
    (accelerators.CREATE, {'name': 'c', 'uuid': None}, False),
    (accelerators.CREATE, {'name': 'c', 'uuid':
                           '8E45A2EA-5364-4B0D-A252-BF8BECAA606E'}, True),
    (accelerators.CREATE, {'name': 'c', 'uuid':
                           '8e45a2ea-5364-4b0d-a252-bf8becaa606e}'}, False),
    (accelerators.UPDATE_SPECS, {'acc_specs': {'num': 2**31}}, False),
    (accelerators.UPDATE_SPECS, {'acc_specs': {'remote': 2}}, False),
    (accelerators.UPDATE_SPECS, {'acc_specs': {'firmware': 'x'}}, True),
    (accelerators.ATTACH, {'instance_uuid': '8e45a2ea-5364-4b0d-a252-bf8becaa606e'},
     True),
    (accelerators.ATTACH, {'host': 'h', 'instance_uuid':
                     '8e45a2ea-5364-4b0d-a252-bf8becaa606e'}, False),
    (accelerators.ATTACH, {}, False),
    (attachments.ATTACHMENT_STATE, {'state': 'attaching'}, False),
    (hosts.DEVICE_REPORT, {'accelerators': [{'pci_address': 'zz'}]}, False),
    (hosts.UNIT['properties']['numa_node'], 2**31 - 1, True),
    (hosts.UNIT['properties']['numa_node'], 13667115162430283776, False),
    (hosts.REPORTING_HOST, 'h' * 242, True),
    (hosts.REPORTING_HOST, 'h' * 243, False),
])
def test_schema(schema, body, ok):
    assert _valid(schema, body) is ok


@pytest.mark.parametrize('value,problem', [
    ('IPSec Card', None),
    ('caf\u00e9 \U0001f680', None),
    ('\udbe8', 'lone surrogate'),
    ('a\x00', 'NUL'),
])
def test_text_problem(value, problem):
    found = common.text_problem(value)
    assert (found is None) if problem is None else (problem in found)
