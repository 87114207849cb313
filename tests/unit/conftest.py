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
