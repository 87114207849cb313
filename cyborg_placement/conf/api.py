"""Options of the REST API service (``[api]``)."""
from oslo_config import cfg

from cyborg_placement.conf import groups

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
    cfg.StrOpt(
        'default_project_id', default='admin',
        help='Project that owns the Placement consumer of an attach made '
             'with a token that names no project (the noauth admin token) '
             'for an instance without allocations, or for a host.'),
    cfg.StrOpt(
        'default_user_id', default='admin',
        help='User recorded on such a consumer when the request names none.'),
    cfg.IntOpt(
        'max_request_body_size', default=1048576, min=1024,
        help='Largest request body in bytes; larger ones get 400. A device '
             'report of a host with 1000 units is about 250 KiB.'),
    cfg.IntOpt(
        'attach_recovery_seconds', default=60, min=0,
        help='An attach record whose Placement claim is not confirmed after '
             'this many seconds is taken as interrupted (the API died '
             "between its steps): the host's next reconcile finishes it if "
             'the claim is in Placement, or rolls it back. Claims in '
             "Placement that the host's attachment records do not explain "
             'are released once those records have not changed for this '
             'long. Until then a detach of an unconfirmed attach is 409.'),
    cfg.IntOpt(
        'placement_conflict_retries', default=10, min=1,
        help="How often a claim merged into an instance's allocations is "
             'tried again after a consumer generation conflict.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    groups.register(conf, GROUP, OPTS)


def list_opts() -> dict:
    return {GROUP: OPTS}
