"""Options of the API's database (``[database]``)."""
from oslo_config import cfg

from cyborg_placement.conf import groups

GROUP = cfg.OptGroup('database', title='Database options',
                     help='Where the API keeps accelerators and attachments.')

OPTS = [
    cfg.StrOpt(
        'connection', secret=True,
        default='sqlite:////var/lib/cyborg/cyborg.sqlite',
        help='SQLAlchemy URL of the API database. SQLite is the embedded '
             'default; use PostgreSQL (postgresql+psycopg2://...) or MySQL '
             '(mysql+pymysql://...) for a real cloud.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    groups.register(conf, GROUP, OPTS)


def list_opts() -> dict:
    return {GROUP: OPTS}
