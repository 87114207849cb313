"""Schema migrations with alembic, run by ``cyborg-manage db sync``."""
import pathlib

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration

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
