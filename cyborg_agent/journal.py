"""What the reconciler must remember across a crash, one file per attachment.

Before the reconciler changes the host for an attachment it writes what it
needs to undo the change (for a host attachment, the driver the unit was
bound to before). The record is removed only once the change is undone and
reported. A restarted agent reads these files to finish a detach, or to roll
back an attachment the API no longer holds. Files are replaced atomically
(write, fsync, rename), so a crash leaves the old record or the new one.
"""
import json
import os
import pathlib


class StateDirUnusable(Exception):
    """``[agent] state_dir`` cannot hold records: the agent must not start."""


class Journal:
    """JSON records keyed by attachment uuid under ``directory``."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = pathlib.Path(directory)

    def check_writable(self) -> None:
        """Fail at start-up, not in the middle of an attach."""
        probe = self.directory / '.writable'
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            probe.write_text('')
            probe.unlink()
        except OSError as exc:
            raise StateDirUnusable(
                f'[agent] state_dir {self.directory} is not a writable '
                f'directory: {exc.strerror or exc}') from None

    def _path(self, uuid: str) -> pathlib.Path:
        return self.directory / f'{uuid}.json'

    def get(self, uuid: str) -> dict | None:
        try:
            return json.loads(self._path(uuid).read_text())
        except FileNotFoundError:
            return None

    def put(self, uuid: str, record: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(uuid)
        temporary = path.with_suffix('.tmp')
        with open(temporary, 'w') as stream:
            json.dump(record, stream, sort_keys=True)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
        self._sync_directory()

    def remove(self, uuid: str) -> None:
        try:
            self._path(uuid).unlink()
        except FileNotFoundError:
            return
        self._sync_directory()

    def uuids(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob('*.json'))

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
