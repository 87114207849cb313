"""Messages to the bus, sent from a thread of the API process's own.

No request waits for a broker that is away: a request puts its message
here and answers (after the message left, for notifications, while the
bus takes them in time). While the broker is down or gone a wake-up fails
at once and is dropped (the agent's poll catches up); a notification waits
in order while oslo.messaging reconnects (``[oslo_messaging_notifications]
retry``, by default until the broker returns). The API goes on answering,
and the outage is logged once, and its end once, not on every request.
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
        #: The bus failed or kept a message longer than a request waits.
        self._failing = False
        self._full = False

    def put(self, item, wait: float = 0.0) -> None:
        """Queue ``item``; with ``wait``, wait up to that long for it to
        leave, unless the bus is failing.

        Waiting keeps the order of messages about one thing across API
        workers: a request answers after its message left, so the next
        request about the same unit, in any worker, sends after it.
        """
        self._started()
        sent = threading.Event()
        try:
            self._queue.put_nowait((item, sent))
        except queue.Full:
            if not self._full:
                LOG.warning('%s: %d messages wait for the message bus; '
                            'newer ones are dropped until it takes them',
                            self.what, MAX_WAITING)
                self._full = True
            return
        if wait and not self._failing and not sent.wait(wait):
            self._failed(f'a message waited more than {wait:.0f}s, the '
                         'ones after it wait in order')

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

    def _failed(self, why) -> None:
        if not self._failing:
            LOG.warning('%s: the message bus is unreachable (%s); said once '
                        'until it answers again', self.what, why)
            self._failing = True

    def _run(self) -> None:
        while True:
            item, sent = self._queue.get()
            try:
                self._send(item)
            except Exception as exc:
                self._failed(exc)
            else:
                if self._failing and self._queue.empty():
                    LOG.info('%s: the message bus answers again', self.what)
                    self._failing = self._full = False
            finally:
                sent.set()
