"""``cyborg-api --config-file F``: serve the API with gunicorn.

gunicorn is the production WSGI server: ``[api] workers`` processes on
``[api] bind_host``:``[api] bind_port``. Each worker builds its own app (and
database engine) after the fork, so no connection is shared across processes.
"""
import sys

from gunicorn.app import base as gunicorn_base
from oslo_config import cfg

from cyborg_placement import conf as cyborg_conf
from cyborg_placement import service
from cyborg_placement.api import app as api_app
from cyborg_placement.db import engine as db_engine
from cyborg_placement.db import migration

CONF = cyborg_conf.CONF


class Server(gunicorn_base.BaseApplication):
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        super().__init__()

    def load_config(self) -> None:
        settings = {
            'bind': f'{self.conf.api.bind_host}:{self.conf.api.bind_port}',
            'workers': self.conf.api.workers,
            'worker_class': 'gthread',
            'threads': 4,
            'timeout': 120,
            'graceful_timeout': 10,
            'preload_app': False,
            'control_socket_disable': True,
            'accesslog': None,
            'errorlog': '-',
            'loglevel': 'warning',
            'proc_name': 'cyborg-api',
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        return api_app.create_app(self.conf)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    service.prepare(argv, CONF)
    # Checked once here: in the workers a bad database is a loop of
    # tracebacks and restarts instead of one line an operator can act on.
    database = db_engine.Database(CONF.database.connection)
    try:
        migration.check_current(database)
    except migration.SchemaNotReady as exc:
        print(f'cyborg-api: error: {exc}', file=sys.stderr)
        return 1
    finally:
        database.dispose()
    Server(CONF).run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
