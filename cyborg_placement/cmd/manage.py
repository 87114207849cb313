"""``cyborg-manage [--config-file F] db sync``: create or upgrade the schema."""
import sys

from oslo_config import cfg

from cyborg_placement import conf as cyborg_conf
from cyborg_placement import service
from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import migration

CONF = cyborg_conf.CONF


def _add_parsers(subparsers) -> None:
    db = subparsers.add_parser('db', help='Database schema commands.')
    db_commands = db.add_subparsers(dest='db_command', required=True)
    sync = db_commands.add_parser(
        'sync', help='Create or upgrade the schema to the newest revision.')
    sync.add_argument('revision', nargs='?', default='head')
    db_commands.add_parser('version', help='Print the schema revision.')


COMMAND_OPTS = [cfg.SubCommandOpt('command', handler=_add_parsers,
                                  title='Commands')]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    service.prepare(argv, CONF, COMMAND_OPTS)
    database = db_engine.Database(CONF.database.connection)
    try:
        if CONF.command.db_command == 'sync':
            migration.upgrade(database, CONF.command.revision)
        else:
            print(migration.current_revision(database) or 'None')
    except Exception as exc:  # noqa: BLE001 - a one-line error, no traceback
        print(f'cyborg-manage: {exc}', file=sys.stderr)
        return 1
    finally:
        database.dispose()
    return 0


if __name__ == '__main__':
    sys.exit(main())
