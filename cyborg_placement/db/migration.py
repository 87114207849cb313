"""Schema migrations with alembic, run by ``cyborg-manage db sync``."""
import pathlib

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

from cyborg_placement.db import engine as db_engine

MIGRATIONS = pathlib.Path(__file__).parent / 'migrations'


def _config(connection) -> alembic_config.Config:
    config = alembic_config.Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    config.attributes['connection'] = connection
    return config


def _sqlite_foreign_keys(connection, on: bool) -> None:
    """Switch SQLite's foreign keys, outside any transaction (inside one
    the pragma does nothing), on the driver's own connection."""
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(f'PRAGMA foreign_keys={"ON" if on else "OFF"}')
    cursor.close()


def upgrade(database: db_engine.Database, revision: str = 'head') -> None:
    """Bring the schema to ``revision``; running it again changes nothing.

    On SQLite, foreign keys are off meanwhile: changing a table's
    constraints there builds it anew and drops the old one, and with
    foreign keys on that drop would delete (cascade) the rows that refer
    to it. The rows are copied as they are, so every reference stays good.
    """
    with database.engine.connect() as connection:
        sqlite = connection.dialect.name == 'sqlite'
        if sqlite:
            _sqlite_foreign_keys(connection, False)
        try:
            with connection.begin():
                command.upgrade(_config(connection), revision)
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, True)


def current_revision(database: db_engine.Database) -> str | None:
    with database.engine.connect() as connection:
        context = alembic_migration.MigrationContext.configure(connection)
        return context.get_current_revision()


def head_revision() -> str:
    """The newest revision this code knows."""
    script = alembic_script.ScriptDirectory.from_config(_config(None))
    return script.get_current_head()


class SchemaNotReady(Exception):
    """The database cannot serve this code yet; the message says what to do."""


def check_current(database: db_engine.Database) -> None:
    """Refuse to serve a database that is unreachable or not at head."""
    try:
        current = current_revision(database)
    except Exception as exc:  # noqa: BLE001 - any driver's connection error
        raise SchemaNotReady(
            f'[database] connection is unusable: {exc.__class__.__name__}: '
            f'{str(exc).splitlines()[0]}') from None
    head = head_revision()
    if current != head:
        raise SchemaNotReady(
            f'database schema is at {current or "nothing"}, this code needs '
            f'{head}: run "cyborg-manage db sync"')
