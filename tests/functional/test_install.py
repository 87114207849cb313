"""The package installs and runs the way an operator installs it.

A wheel built from the working tree (its git-visible files, committed into a
scratch repository because pbr takes the version and the data files from git)
goes, not editable, into a fresh virtualenv that sees no other site-packages;
pip resolves the declared requirements. That virtualenv's ``cyborg-manage db
sync`` then migrates a SQLite file and its ``cyborg-api`` serves: a file left
out of the wheel, or an import the requirements do not declare, fails here.
"""
from collections.abc import Iterator
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.conftest import remove_virtualenv
from tools.harness import api_server

REPO = pathlib.Path(__file__).resolve().parents[2]

#: setuptools' complaints about the packaging this project once had.
PACKAGING_WARNINGS = ('absent from the `packages` configuration',
                      'License classifiers are deprecated')


def _run(argv: list, **kwargs) -> str:
    """Run ``argv``; its output, or a failure that shows it."""
    result = subprocess.run([str(arg) for arg in argv], capture_output=True,
                            text=True, **kwargs)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f'{argv} exited {result.returncode}:\n{output}'
    return output


def _source_tree(target: pathlib.Path) -> pathlib.Path:
    """The files git would commit from the working tree, in a new repository."""
    listing = _run(['git', '-C', REPO, 'ls-files', '-z', '--cached',
                    '--others', '--exclude-standard'])
    for name in filter(None, listing.split('\0')):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git = ['git', '-C', target, '-c', 'user.name=test',
           '-c', 'user.email=test@example.invalid']
    _run([*git, 'init', '-q'])
    _run([*git, 'add', '-A'])
    _run([*git, 'commit', '-q', '-m', 'working tree'])
    return target


@pytest.fixture(scope='module')
def installed(tmp_path_factory) -> Iterator[dict]:
    """A virtualenv with the wheel installed; its bin directory and pip's output."""
    work = tmp_path_factory.mktemp('install')
    source = _source_tree(work / 'source')
    venv = work / 'venv'
    _run([sys.executable, '-m', 'venv', venv])
    pip = venv / 'bin' / 'pip'
    # -v: pip shows what the build backend (setuptools through pbr) says.
    output = _run([pip, 'wheel', '-v', '--no-deps', '-w', work / 'dist',
                   source])
    (wheel,) = (work / 'dist').glob('cyborg_placement-*.whl')
    output += _run([pip, 'install', wheel])
    yield {'bin': venv / 'bin', 'pip_output': output, 'work': work}
    remove_virtualenv(venv)


def test_the_build_has_no_packaging_warnings(installed):
    warned = [line.strip() for line in installed['pip_output'].splitlines()
              if any(warning in line for warning in PACKAGING_WARNINGS)]
    assert warned == []


def test_the_package_is_imported_from_the_virtualenv(installed):
    where = _run([installed['bin'] / 'python', '-c',
                  'import cyborg_placement; print(cyborg_placement.__file__)'],
                 cwd=installed['work'])
    assert pathlib.Path(where.strip()).is_relative_to(
        installed['bin'].parent / 'lib')


def test_installed_commands_sync_a_database_and_serve(installed, tmp_path):
    # Listing accelerators reads the database only: no Placement needed.
    server = api_server.ApiServer(
        tmp_path, f'sqlite:///{tmp_path}/cyborg.sqlite',
        'http://127.0.0.1:9/placement', workers=1, bin_dir=installed['bin'])
    server.start()
    try:
        assert server.client().get('/healthcheck').status_code == 200
        answer = server.client().get('/accelerators')
        assert answer.status_code == 200
        assert answer.json() == {'accelerator': []}
    finally:
        server.stop()
