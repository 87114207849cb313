"""Every command of ours, given a config file it cannot use, says so in one
line that names the file, not in a traceback."""
import pathlib
import subprocess
import sys

import pytest

BIN = pathlib.Path(sys.executable).parent


@pytest.mark.parametrize('command', [
    ['cyborg-agent', '--once'],
    ['cyborg-api'],
    ['cyborg-manage', 'db', 'sync'],
])
@pytest.mark.parametrize('problem, error', [
    ('missing', 'Failed to find some config files: {conf}'),
    ('unparsable', 'Failed to parse {conf}'),
])
def test_a_config_file_it_cannot_use_is_one_line(tmp_path, command, problem,
                                                 error):
    conf = tmp_path / 'cyborg.conf'
    if problem == 'unparsable':
        conf.write_text('[agent\nsysfs_root = /sys\n')
    result = subprocess.run(
        [str(BIN / command[0]), '--config-file', str(conf), *command[1:]],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f'{command[0]}: error: '
                           + error.format(conf=conf)), line
