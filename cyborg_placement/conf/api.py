"""Options of the REST API service (``[api]``)."""
from oslo_config import cfg

GROUP = cfg.OptGroup('api', title='API options',
                     help='How the accelerator REST API is served.')

OPTS = [
    cfg.HostAddressOpt(
        'bind_host', default='127.0.0.1',
        help='Address the API server listens on.'),
    cfg.PortOpt(
        'bind_port', default=6666,
        help='Port the API server listens on.'),
    cfg.IntOpt(
        'workers', default=1, min=1,
        help='Number of API worker processes. With the embedded SQLite '
             'database several workers share the file through WAL.'),
    cfg.StrOpt(
        'auth_strategy', default='keystone', choices=[
            ('keystone', 'Validate tokens with keystonemiddleware.'),
            ('noauth', 'Trust X-Auth-Token / X-Roles / X-Project-Id headers; '
                       'for local use only.'),
        ],
        help='How requests are authenticated.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> dict:
    return {GROUP: OPTS}
