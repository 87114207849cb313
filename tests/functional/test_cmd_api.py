"""``cyborg-api`` refuses, in one line, a database it cannot serve."""
import pathlib
import subprocess
import sys

from tools.harness import ini
from tools.harness.server_process import free_port

API = str(pathlib.Path(sys.executable).parent / 'cyborg-api')


def _start(tmp_path, connection: str) -> subprocess.CompletedProcess:
    conf = ini.write(tmp_path / 'cyborg.conf', {
        'api': {'auth_strategy': 'noauth', 'bind_port': free_port()},
        'database': {'connection': connection}})
    return subprocess.run([API, '--config-file', str(conf)],
                          capture_output=True, text=True, timeout=60)


def _error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines()
            if line.startswith('cyborg-api: error:')]


def test_a_database_without_the_schema_asks_for_db_sync(tmp_path):
    result = _start(tmp_path, f'sqlite:///{tmp_path}/empty.sqlite')
    assert result.returncode == 1
    (line,) = _error_lines(result)
    assert 'cyborg-manage db sync' in line
    assert 'Traceback' not in result.stderr


def test_an_unreachable_database_names_the_option(tmp_path):
    result = _start(
        tmp_path, f'postgresql+psycopg2://nobody@127.0.0.1:{free_port()}/x')
    assert result.returncode == 1
    (line,) = _error_lines(result)
    assert '[database] connection is unusable' in line
    assert 'Traceback' not in result.stderr
