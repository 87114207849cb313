"""Engines and short transactions that work on SQLite, PostgreSQL and MySQL.

The embedded SQLite file is shared by several API worker processes: WAL lets
readers run beside the one writer, the busy timeout makes a writer wait for
the lock instead of failing, and write transactions start with ``BEGIN
IMMEDIATE`` so two writers never both hold a read snapshot they cannot upgrade.
"""
from collections.abc import Callable
from collections.abc import Iterator
import contextlib

from oslo_log import log as logging
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import orm

LOG = logging.getLogger(__name__)
SQLITE_BUSY_TIMEOUT_MS = 30000


def _prepare_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, 'connect')
    def _connect(dbapi_connection, _record):
        # The driver's own transaction handling would send a deferred BEGIN
        # itself; we send BEGIN in the "begin" event below instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA journal_mode=WAL')
        cursor.execute(f'PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}')
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.execute('PRAGMA synchronous=NORMAL')
        cursor.close()

    @event.listens_for(engine, 'begin')
    def _begin(connection):
        mode = connection.get_execution_options().get('sqlite_begin', '')
        connection.exec_driver_sql(f'BEGIN {mode}'.strip())


def create_engine(url: str) -> sa.Engine:
    """Make an engine for ``url`` with the settings its backend needs."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == 'sqlite':
        engine = sa.create_engine(
            parsed, connect_args={'timeout': SQLITE_BUSY_TIMEOUT_MS / 1000})
        _prepare_sqlite(engine)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, pool_recycle=3600)


class Database:
    """An engine plus the two kinds of transaction the data layer uses."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self._sessions = orm.sessionmaker(expire_on_commit=False)
        self._observers: list[Callable] = []

    def observe(self, observer: Callable) -> None:
        """Call ``observer(change)`` with each committed
        :class:`changes.Change` of a unit or an attachment."""
        self._observers.append(observer)

    def publish(self, change) -> None:
        """Tell the observers; one that fails never fails the write, which
        is committed already."""
        for observer in self._observers:
            try:
                observer(change)
            except Exception:
                LOG.exception('Observer %s failed on %s', observer, change)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def reader(self) -> Iterator[orm.Session]:
        with self.engine.connect() as connection:
            with self._sessions(bind=connection) as session:
                with session.begin():
                    yield session

    @contextlib.contextmanager
    def writer(self) -> Iterator[orm.Session]:
        """A write transaction, committed on exit, rolled back on error."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(
                sqlite_begin='IMMEDIATE')
            with self._sessions(bind=connection) as session:
                with session.begin():
                    yield session

    def dispose(self) -> None:
        self.engine.dispose()
