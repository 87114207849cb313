"""What the agent sent out last, kept across restarts in ``[agent] state_dir``.

A restarted agent that remembers what it published to Placement (with the
generations Placement gave it) and the device report the API last accepted
needs one listing to confirm that nothing changed, instead of reading every
provider again and sending the whole report: what makes a fleet restarted at
once cheap. The health tracker keeps its memory the same way. The files are
only a cache: one that is missing, unreadable,
corrupt or of another format is reported in the log and ignored, and the
agent reads from the services again. They live in a directory of their own
(``<state_dir>/published``), apart from the reconciler's journal, and are
replaced atomically, so a crash leaves the old document or the new one.
"""
import json
import pathlib
import re

from oslo_log import log as logging

from cyborg_agent import journal

LOG = logging.getLogger(__name__)

SUBDIRECTORY = 'published'


def file_name(kind: str, root_name: str) -> str:
    """One file per kind and host: agents may share a state_dir."""
    return f'{kind}-{re.sub(r"[^A-Za-z0-9._-]", "_", root_name)}'


class StateFile:
    """One JSON object, read and written without ever failing the agent."""

    def __init__(self, state_dir: str | pathlib.Path, name: str) -> None:
        self._store = journal.Journal(pathlib.Path(state_dir) / SUBDIRECTORY)
        self.name = name
        self._written: dict | None = None
        self._write_failed = False

    @property
    def path(self) -> pathlib.Path:
        return self._store.directory / f'{self.name}.json'

    def read(self) -> dict | None:
        """The saved object, or ``None`` (reported) when it cannot be used."""
        try:
            document = self._store.get(self.name)
        except NotADirectoryError:
            return None  # nothing saved; the write will say what is wrong
        except (OSError, ValueError) as exc:
            self.ignore(exc)
            return None
        if document is not None and not isinstance(document, dict):
            self.ignore('not a JSON object')
            return None
        self._written = document
        return document

    def ignore(self, reason) -> None:
        LOG.warning('Ignoring saved state %s (%s): working without it',
                    self.path, reason)

    def write(self, document: dict) -> None:
        """Save ``document`` if it differs from what was saved last."""
        if document == self._written:
            return
        try:
            self._store.put(self.name, document)
        except (OSError, TypeError, ValueError) as exc:
            # Once: a state_dir that cannot be written stays so.
            log = LOG.debug if self._write_failed else LOG.warning
            log('Could not save state to %s: %s; a restarted agent will work '
                'without it', self.path, exc)
            self._write_failed = True
            return
        self._written = json.loads(json.dumps(document))
