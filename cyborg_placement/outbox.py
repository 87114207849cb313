"""Messages to the bus, sent from a thread of the API process's own.

No request waits for the broker: a request puts its message here and
answers. While the broker is down or gone the sender fails (or, for
notifications, oslo.messaging retries as ``[oslo_messaging_notifications]
retry`` says) and the API goes on answering; the failure is logged once
per outage, and its end once, instead of on every request.
"""
from collections.abc import Callable
import os
import queue
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: Messages waiting beyond this are dropped (logged once per outage): a
#: lost wake-up costs a delay, a notification is best effort, as Nova's.
MAX_WAITING = 10000


class Outbox:
    """``put(item)`` now, ``send(item)`` later, in order, in one thread."""

    def __init__(self, what: str, send: Callable[[object], None]) -> None:
        self.what = what
        self._send = send
        self._queue: queue.Queue = queue.Queue(MAX_WAITING)
        self._lock = threading.Lock()
        self._pid = None
        self._failing = False
        self._full = False

    def put(self, item) -> None:
        self._started()
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            if not self._full:
                LOG.warning('%s: %d messages wait for the message bus; '
                            'newer ones are dropped until it takes them',
                            self.what, MAX_WAITING)
                self._full = True

    def join(self) -> None:
        """Wait until every message put so far is sent or given up."""
        self._queue.join()

    def _started(self) -> None:
        """One thread per process, started in the process that sends
        (gunicorn forks its workers after the application is made)."""
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            if self._queue.qsize():
                self._queue = queue.Queue(MAX_WAITING)  # the parent's
            threading.Thread(target=self._run, name=self.what,
                             daemon=True).start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                self._send(item)
            except Exception as exc:
                if not self._failing:
                    LOG.warning('%s: the message bus is unreachable (%s); '
                                'said once until it answers again',
                                self.what, exc)
                    self._failing = True
            else:
                if self._failing:
                    LOG.info('%s: the message bus answers again', self.what)
                self._failing = self._full = False
            finally:
                self._queue.task_done()
