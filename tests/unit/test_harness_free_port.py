"""free_port: a port claimed by another process of the tests is not given
again, so two servers never race for one port."""
import os
import time

import pytest

from tools.harness import server_process


class _Picks:
    """The kernel's picks for bind(('127.0.0.1', 0)), in order."""

    def __init__(self, ports):
        self.ports = list(ports)

    def __call__(self, *args):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def bind(self, address):
        self.port = self.ports.pop(0)

    def getsockname(self):
        return ('127.0.0.1', self.port)


@pytest.fixture
def claims(tmp_path, monkeypatch):
    monkeypatch.setattr(server_process, 'CLAIMS', tmp_path)
    return tmp_path


def test_a_port_another_process_claimed_is_skipped(claims, monkeypatch):
    (claims / '40001').touch()
    monkeypatch.setattr(server_process.socket, 'socket',
                        _Picks([40001, 40002]))
    assert server_process.free_port() == 40002
    assert (claims / '40002').exists()


def test_a_claim_older_than_a_servers_start_is_taken_again(claims,
                                                            monkeypatch):
    old = claims / '40001'
    old.touch()
    stale = time.time() - server_process.CLAIM_SECONDS - 1
    os.utime(old, (stale, stale))
    monkeypatch.setattr(server_process.socket, 'socket', _Picks([40001]))
    assert server_process.free_port() == 40001
    assert old.stat().st_mtime > stale


def test_real_picks_are_all_different(claims):
    ports = [server_process.free_port() for _ in range(50)]
    assert len(set(ports)) == 50
