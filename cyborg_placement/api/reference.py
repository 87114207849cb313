"""The API reference in docs/, generated from the OpenAPI description.

``python -m cyborg_placement.api.reference docs/api-reference.md`` (``tox -e
genapiref``); a test fails when the committed file differs, so the reference
is always the description ``/openapi.json`` serves.
"""
import json
import pathlib
import sys

from cyborg_placement.api import openapi

HEADER = """\
# API reference

Generated from `GET /openapi.json` by `tox -e genapiref`; do not edit by hand.
Conventions (errors, versions, auth, attach flow) are in `api.md`.
"""


def _parameters(kind: str, params: list[dict]) -> list[str]:
    if not params:
        return []
    return [f'| {kind} parameter | schema |', '|---|---|', *(
        f'| `{p["name"]}` | `{json.dumps(p["schema"], sort_keys=True)}` |'
        for p in params), '']


def _operation(path: str, method: str, operation: dict,
               path_params: list[dict]) -> list[str]:
    lines = [f'## `{method.upper()} {path}`', '', operation['summary'], '']
    if operation.get('security') == []:
        lines += ['No token needed.', '']
    lines += _parameters('path', path_params)
    lines += _parameters('query', operation.get('parameters', []))
    body = operation.get('requestBody')
    if body:
        schema = body['content']['application/json']['schema']
        lines += ['Request body (JSON Schema):', '', '```json',
                  json.dumps(schema, indent=2, sort_keys=True), '```', '']
    lines += ['| status | meaning |', '|---|---|']
    lines += [f'| {code} | {response["description"]} |'
              for code, response in operation['responses'].items()]
    return lines + ['']


def _schema(name: str, schema: dict) -> list[str]:
    lines = [f'## {name} object', '', '| field | type | meaning |',
             '|---|---|---|']
    for field, spec in schema['properties'].items():
        kind = spec['type']
        kind = ' or '.join(kind) if isinstance(kind, list) else kind
        meaning = spec['description']
        if 'enum' in spec:
            meaning += ' One of ' + ', '.join(
                f'`{value}`' for value in spec['enum']) + '.'
        lines.append(f'| `{field}` | {kind} | {meaning} |')
    return lines + ['']


def render(document: dict) -> str:
    lines = [HEADER]
    for path, item in document['paths'].items():
        for method, operation in item.items():
            if method != 'parameters':
                lines += _operation(path, method, operation,
                                    item.get('parameters', []))
    for name, schema in document['components']['schemas'].items():
        if 'properties' in schema:
            lines += _schema(name, schema)
    return '\n'.join(lines).rstrip('\n') + '\n'


if __name__ == '__main__':
    pathlib.Path(sys.argv[1]).write_text(render(openapi.document()))
