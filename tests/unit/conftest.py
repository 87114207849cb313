"""Fixtures the unit tests of several modules share."""
import pytest


@pytest.fixture
def bin_dir(tmp_path, monkeypatch):
    """A PATH holding only our directory and the basic system tools, for
    stand-ins of vendor executables (``nvidia-smi``)."""
    directory = tmp_path / 'bin'
    directory.mkdir()
    monkeypatch.setenv('PATH', f'{directory}:/usr/bin:/bin')
    return directory


@pytest.fixture
def privileged_here():
    """Run the privileged entry points in the test process, as the daemon
    runs them (oslo.privsep's client mode off), reading the global CONF as
    the daemon reads its own: ``use(root, **agent)`` sets ``[agent]``."""
    from cyborg_agent.privileged import sysfs_pctxt
    from cyborg_placement import conf as cyborg_conf
    names = []

    def use(root, **agent) -> None:
        for name, value in {'sysfs_root': str(root), **agent}.items():
            cyborg_conf.CONF.set_override(name, value, 'agent')
            names.append(name)
    sysfs_pctxt.set_client_mode(False)
    yield use
    sysfs_pctxt.set_client_mode(True)
    for name in names:
        cyborg_conf.CONF.clear_override(name, 'agent')
