"""What ``cyborg-agent`` loads to start. Tests and clouds run it often (a
``--once`` cycle, ``discover``), so its start-up is paid every time: the
privileged daemon's code (oslo.privsep, which imports eventlet when it is
installed: a third of the agent's start-up) waits for the first
privileged call (cyborg_agent/attach_errors.py)."""
import subprocess
import sys

import pytest

from cyborg_agent.attach_errors import AttachFailed
from cyborg_agent.attach_errors import privileged_call

LOADED = '''\
import sys
import {module}
print(' '.join(sorted(sys.modules)))
'''


@pytest.mark.parametrize('module', ['cyborg_agent.cmd.agent',
                                    'cyborg_agent.daemon',
                                    'cyborg_agent.cmd.discover'])
def test_starting_the_agent_loads_no_privileged_code(module):
    done = subprocess.run(
        [sys.executable, '-c', LOADED.format(module=module)],
        capture_output=True, text=True, timeout=120, check=True)
    loaded = set(done.stdout.split())
    assert module in loaded
    privileged = {'oslo_privsep', 'eventlet', 'cyborg_agent.privileged'}
    assert not loaded & privileged, sorted(loaded & privileged)


@pytest.mark.parametrize('name, call, reason', [
    ('pci', ('probe', '..'), "'..' is not a PCI address (dddd:bb:dd.f)."),
    ('vgpu', ('remove_mdev', 'X'),
     "'X' is not a UUID (lower-case, with hyphens)."),
])
def test_a_call_by_name_reaches_the_daemons_entry_points(
        sysfs, privileged_here, name, call, reason):
    """``pci`` and ``vgpu`` name the daemon's modules; what they refuse
    comes back as the attachment's final failure."""
    privileged_here(sysfs.root)
    with pytest.raises(AttachFailed) as caught:
        privileged_call(name, *call)
    assert caught.value.reason == reason
