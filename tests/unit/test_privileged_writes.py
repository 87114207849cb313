"""Only the privileged module writes under the sysfs root: checked on the
code as written, as the layering test checks imports, so a new write
elsewhere fails here rather than on a host where the agent is not root.

Every call that can change a file is found with ``ast``: ``open`` with a
writing mode, ``os`` calls that write, create, move or remove, ``shutil``'s
copies and moves, and ``pathlib`` methods that do the same. The modules
that have any are listed with what they write; none but the privileged
module may know of the sysfs tree.
"""
import ast
import pathlib

import pytest

from cyborg_agent.privileged import pci
from cyborg_agent.privileged import sysfs_pctxt
from cyborg_agent.privileged import vgpu

ROOT = pathlib.Path(__file__).resolve().parents[2]
PRODUCT = ('cyborg_agent', 'cyborg_placement', 'nova_ext')
PRIVILEGED = 'cyborg_agent/privileged/pci.py'

#: Every product module that writes files, and where.
WRITERS = {
    PRIVILEGED: '[agent] sysfs_root, as root, in the privsep daemon',
    'cyborg_agent/journal.py': '[agent] state_dir: the journal and the '
                               'saved published state',
    'cyborg_placement/api/reference.py': 'docs/api-reference.md '
                                         '(tox -e genapiref)',
}

_OS_WRITES = {'write', 'rename', 'replace', 'symlink', 'link', 'mkdir',
              'makedirs', 'unlink', 'remove', 'rmdir', 'removedirs', 'chmod',
              'chown', 'truncate', 'mknod', 'mkfifo', 'utime'}
_OPEN_WRITE_FLAGS = {'O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_TRUNC', 'O_APPEND'}
_SHUTIL_WRITES = {'copy', 'copy2', 'copyfile', 'copytree', 'move', 'rmtree',
                  'chown'}
_PATH_WRITES = {'write_text', 'write_bytes', 'symlink_to', 'hardlink_to',
                'touch', 'mkdir', 'unlink', 'rmdir', 'chmod'}
#: ``Path.rename(target)`` and ``Path.replace(target)`` take one argument;
#: ``str.replace`` takes two, ``dataclasses.replace`` is called on a module.
_PATH_MOVES = {'rename', 'replace'}


def _mode(call: ast.Call) -> object:
    if len(call.args) > 1:
        return getattr(call.args[1], 'value', None)
    for keyword in call.keywords:
        if keyword.arg == 'mode':
            return getattr(keyword.value, 'value', None)
    return 'r'


def _writes_mode(mode: object) -> bool:
    return not isinstance(mode, str) or bool(set(mode) & set('wax+'))


def _is_write(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == 'open' and _writes_mode(_mode(call))
    if not isinstance(func, ast.Attribute):
        return False
    owner = func.value.id if isinstance(func.value, ast.Name) else None
    if owner == 'os' and func.attr == 'open':
        return bool({getattr(n, 'attr', None) for n in ast.walk(
            call.args[1])} & _OPEN_WRITE_FLAGS) if len(call.args) > 1 \
            else False
    if owner == 'os':
        return func.attr in _OS_WRITES
    if owner == 'shutil':
        return func.attr in _SHUTIL_WRITES
    if owner == 'dataclasses':
        return False
    if func.attr in _PATH_MOVES:
        return len(call.args) == 1 and not call.keywords
    if func.attr == 'open':
        return _writes_mode(call.args[0].value if call.args and isinstance(
            call.args[0], ast.Constant) else 'r')
    return func.attr in _PATH_WRITES


def _writers() -> dict[str, list[int]]:
    found = {}
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob('*.py')):
            lines = [node.lineno for node in ast.walk(ast.parse(
                path.read_text())) if isinstance(node, ast.Call)
                and _is_write(node)]
            if lines:
                found[str(path.relative_to(ROOT))] = lines
    return found


def test_only_the_listed_modules_write_files():
    assert set(_writers()) == set(WRITERS), (
        'a module writes files: a write under the sysfs root belongs in '
        f'{PRIVILEGED} as a privsep entry point; another goes into WRITERS')


@pytest.mark.parametrize('module', sorted(set(WRITERS) - {PRIVILEGED}))
def test_no_other_writer_knows_of_the_sysfs_tree(module):
    source = (ROOT / module).read_text()
    assert 'sysfs' not in source


@pytest.mark.parametrize('module', [pci, vgpu])
def test_the_privileged_module_exports_only_entry_points(module):
    """Its functions run as root only when called through the context."""
    functions = [node.name for node in ast.parse(
        pathlib.Path(module.__file__).read_text()).body
        if isinstance(node, ast.FunctionDef)]
    assert functions and all(
        sysfs_pctxt.is_entrypoint(getattr(module, name))
        for name in functions)


@pytest.mark.parametrize('snippet', [
    "open(path, 'w')", "open(path, mode='a')", "path.open('w')",
    "os.open(path, os.O_WRONLY)", "os.write(fd, b'x')",
    "shutil.copy(a, b)", "path.write_text('x')", "path.replace(other)",
    "os.symlink(a, b)", "os.unlink(path)",
])
def test_the_scan_sees_each_kind_of_write(snippet):
    assert _is_write(ast.parse(snippet).body[0].value)


@pytest.mark.parametrize('snippet', [
    "open(path)", "open(path, 'rb')", "os.open(path, os.O_RDONLY)",
    "text.replace('a', 'b')", "dataclasses.replace(record, x=1)",
    "shutil.which('nvidia-smi')", "libvirt.open(uri)", "path.read_text()",
])
def test_the_scan_leaves_reads_alone(snippet):
    assert not _is_write(ast.parse(snippet).body[0].value)
