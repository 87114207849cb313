"""Arrows run one way (docs/architecture.md): checked on the imports as
written, so a new import against the flow fails here, not in review."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _imports(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
            names.update(f'{node.module}.{alias.name}' for alias in node.names)
    return names


def _modules(*parts: str) -> list[pathlib.Path]:
    base = ROOT.joinpath(*parts)
    return [base] if base.suffix == '.py' else sorted(base.rglob('*.py'))


def _offending(paths, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        bad = sorted(name for name in _imports(path)
                     if name.split('.')[0] in forbidden
                     or name.startswith(tuple(f + '.' for f in forbidden)))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


@pytest.mark.parametrize('package', ['cyborg_placement', 'cyborg_agent',
                                     'nova_ext'])
def test_product_code_never_imports_the_harness_or_the_tests(package):
    assert _offending(_modules(package), ('tools', 'tests')) == {}


@pytest.mark.parametrize('package', ['benchmarks', 'tools'])
def test_benchmarks_the_demo_and_the_harness_never_import_the_tests(package):
    # What they share with the tests lives in tools/harness, so that a
    # benchmark or tools/run-local.sh runs from a checkout without tests/.
    assert _offending(_modules(package), ('tests',)) == {}


def test_the_api_package_never_imports_the_agent():
    assert _offending(_modules('cyborg_placement'), ('cyborg_agent',)) == {}


def test_the_attach_flow_and_the_data_layer_know_nothing_of_http():
    paths = _modules('cyborg_placement', 'attach') + _modules(
        'cyborg_placement', 'db') + _modules(
        'cyborg_placement', 'notifications') + _modules(
        'cyborg_placement', 'wakeup.py') + _modules(
        'cyborg_placement', 'outbox.py')
    assert _offending(paths, ('flask', 'werkzeug', 'cyborg_placement.api',
                              'cyborg_agent')) == {}


@pytest.mark.parametrize('shared', [
    ('cyborg_placement', 'vocabulary.py'),
    ('cyborg_placement', 'crash_points.py'),
    ('cyborg_placement', 'rpc.py'),
    ('cyborg_placement', 'placement'),
    ('cyborg_placement', 'conf'),
])
def test_shared_modules_import_neither_side(shared):
    assert _offending(_modules(*shared), (
        'cyborg_agent', 'nova_ext', 'cyborg_placement.api',
        'cyborg_placement.attach', 'cyborg_placement.db',
        'cyborg_placement.osc')) == {}


def test_the_vocabulary_imports_nothing_of_ours():
    ours = {name for name in _imports(ROOT / 'cyborg_placement'
                                      / 'vocabulary.py')
            if name.split('.')[0] in ('cyborg_placement', 'cyborg_agent')}
    assert ours == set()
