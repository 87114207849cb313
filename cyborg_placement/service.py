"""Start-up shared by every command: parse the config, set up oslo.log."""
import os
import sys

from oslo_config import cfg
from oslo_log import log as logging

from cyborg_placement import conf as cyborg_conf

PROJECT = 'cyborg'
_LOGGING_REGISTERED = False


def prepare(argv: list[str] | None, conf: cfg.ConfigOpts = cyborg_conf.CONF,
            cli_opts: list | None = None) -> None:
    """Parse ``argv`` into ``conf`` and send logs to stderr.

    Commands print their results on stdout (``discover --format json`` is read by
    scripts), so logs must never go there: oslo.log's fallback is stdout.
    """
    global _LOGGING_REGISTERED
    if not _LOGGING_REGISTERED:
        logging.register_options(conf)
        _LOGGING_REGISTERED = True
    if cli_opts:
        conf.register_cli_opts(cli_opts)
    conf.set_default('use_stderr', True)
    try:
        conf(argv, project=PROJECT)
    except (cfg.ConfigFilesNotFoundError, cfg.ConfigFileParseError) as exc:
        # The operator's to fix, in one line that names the file.
        raise SystemExit(f'{os.path.basename(sys.argv[0])}: error: {exc}'
                         ) from None
    logging.setup(conf, PROJECT)
