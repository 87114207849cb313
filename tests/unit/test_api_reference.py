"""docs/api-reference.md is the OpenAPI description, rendered."""
import pathlib

from cyborg_placement.api import openapi
from cyborg_placement.api import reference

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_committed_reference_is_up_to_date():
    committed = (REPO / 'docs' / 'api-reference.md').read_text()
    assert committed == reference.render(openapi.document()), (
        'docs/api-reference.md is stale: run "tox -e genapiref"')


def test_every_route_has_a_section():
    text = reference.render(openapi.document())
    for path, item in openapi.document()['paths'].items():
        for method in item:
            if method != 'parameters':
                assert f'## `{method.upper()} {path}`' in text
