"""The requirements files say what the code imports, no more and no less.

An import nothing declares works in the developer's virtualenv and fails on an
operator's host; a declared distribution nothing imports is installed for
nothing. The imports are read with ``ast`` (function-level ones included) and
mapped to the installed distributions that provide them.
"""
import ast
import configparser
import functools
import importlib.metadata
import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
PRODUCT = ('cyborg_placement', 'cyborg_agent', 'nova_ext')
TEST_CODE = ('tests', 'benchmarks', 'tools')

#: Distributions the program that loads the code brings, and that code's
#: place: nova_ext runs inside nova-compute, from Nova's own environment, and
#: the osc plugin is loaded by the ``openstack`` command. Neither is declared
#: (pip would otherwise install or upgrade Nova or the client under them).
HOST_PROVIDED = {
    'nova': 'nova_ext/',
    'python-openstackclient': 'cyborg_placement/osc/',
}


#: Test code that runs in the tempest virtualenv, from
#: tools/tempest-requirements.txt: its imports (python-subunit, testtools)
#: come with tempest, not with ours.
TEMPEST_VENV_CODE = ('tools/harness/tempest_results.py',)


def _canonical(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def _requirement_names(lines) -> set[str]:
    names = set()
    for line in lines:
        line = line.split('#')[0].strip()
        if line:
            names.add(_canonical(re.match(r'[A-Za-z0-9][A-Za-z0-9._-]*',
                                          line).group()))
    return names


def _requirements_file(name: str) -> set[str]:
    return _requirement_names((REPO / name).read_text().splitlines())


def _extras() -> set[str]:
    """The distributions of setup.cfg's ``[extras]`` (``pip install .[x]``)."""
    config = configparser.ConfigParser()
    config.read(REPO / 'setup.cfg')
    if not config.has_section('extras'):
        return set()
    return _requirement_names(
        line for _, value in config.items('extras')
        for line in value.splitlines())


def _modules(*roots: str) -> list[pathlib.Path]:
    return sorted(path for root in roots for path in (REPO / root).rglob('*.py'))


def _third_party_imports(paths) -> dict[str, set[str]]:
    """Top-level module name -> the files (repo-relative) importing it."""
    first_party = {path.name for path in REPO.iterdir()
                   if (path / '__init__.py').exists()}
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition('.')[0]
                if top not in sys.stdlib_module_names | first_party:
                    found.setdefault(top, set()).add(
                        str(path.relative_to(REPO)))
    return found


@functools.cache
def _installed() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _distributions(imports: dict[str, set[str]]) -> dict[str, set[str]]:
    """Module name -> the distributions providing it (canonical names)."""
    installed = _installed()
    unknown = {name: sorted(files) for name, files in imports.items()
               if name not in installed}
    assert not unknown, f'no installed distribution provides {unknown}'
    return {name: {_canonical(dist) for dist in installed[name]}
            for name in imports}


def _undeclared(imports, declared: set[str]) -> dict[str, list[str]]:
    return {name: sorted(files) for name, files in imports.items()
            if not _distributions({name: files})[name] & declared}


def test_requirements_list_exactly_what_the_product_imports():
    imports = _third_party_imports(_modules(*PRODUCT))
    dists = _distributions(imports)
    for name, owners in dists.items():
        for dist in owners & HOST_PROVIDED.keys():
            stray = [f for f in imports[name]
                     if not f.startswith(HOST_PROVIDED[dist])]
            assert not stray, f'{name} is only there for {HOST_PROVIDED[dist]}'
    imports = {name: files for name, files in imports.items()
               if not dists[name] & HOST_PROVIDED.keys()}
    declared = _requirements_file('requirements.txt') | _extras()
    assert _undeclared(imports, declared) == {}
    used = set().union(*_distributions(imports).values())
    assert declared - used == set(), 'declared but never imported'


def test_test_requirements_cover_what_the_tests_import():
    """tools/install-test-deps.sh installs these two files into .venv (and
    tools/tempest-requirements.txt into .tempest-venv)."""
    imports = _third_party_imports(
        [path for path in _modules(*TEST_CODE)
         if str(path.relative_to(REPO)) not in TEMPEST_VENV_CODE])
    declared = (_requirements_file('requirements.txt')
                | _requirements_file('test-requirements.txt'))
    assert _undeclared(imports, declared) == {}
