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


def upgrade(database: db_engine.Database, revision: str = 'head') -> None:
    """Bring the schema to ``revision``; running it again changes nothing."""
    with database.engine.begin() as connection:
        command.upgrade(_config(connection), revision)


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
