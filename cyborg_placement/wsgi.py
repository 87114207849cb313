"""WSGI entry point for uwsgi and mod_wsgi: ``cyborg_placement.wsgi:application``.

The config file comes from ``CYBORG_CONFIG_FILE`` (default
``/etc/cyborg/cyborg.conf``); the server, not this module, decides workers.
"""
import os

from cyborg_placement import conf as cyborg_conf
from cyborg_placement import service
from cyborg_placement.api import app as api_app

CONFIG_FILE_ENV = 'CYBORG_CONFIG_FILE'


def init_application():
    config_file = os.environ.get(CONFIG_FILE_ENV, '/etc/cyborg/cyborg.conf')
    service.prepare(['--config-file', config_file], cyborg_conf.CONF)
    return api_app.create_app(cyborg_conf.CONF)


application = init_application()
