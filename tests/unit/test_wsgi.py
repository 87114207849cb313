"""cyborg_placement.wsgi serves the app to uwsgi/mod_wsgi from a config file."""
import json
import subprocess
import sys

SCRIPT = """
import io, json, sys
from cyborg_placement import wsgi
from cyborg_placement.db import engine, migration
from cyborg_placement import conf
migration.upgrade(engine.Database(conf.CONF.database.connection))
answers = []
def start_response(status, headers):
    answers.append(status)
def call(path, **headers):
    environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': path, 'SERVER_NAME': 'x',
               'SERVER_PORT': '80', 'wsgi.url_scheme': 'http',
               'wsgi.input': io.BytesIO(), **headers}
    body = b''.join(wsgi.application(environ, start_response))
    return answers[-1], json.loads(body)
print(json.dumps([call('/healthcheck'), call('/accelerators'),
                  call('/accelerators', HTTP_X_AUTH_TOKEN='admin')]))
"""


def test_wsgi_module_reads_the_config_named_in_the_environment(tmp_path):
    conf = tmp_path / 'cyborg.conf'
    conf.write_text('[api]\nauth_strategy = noauth\n[database]\n'
                    f'connection = sqlite:///{tmp_path}/c.sqlite\n')
    done = subprocess.run(
        [sys.executable, '-c', SCRIPT], capture_output=True, text=True,
        env={'CYBORG_CONFIG_FILE': str(conf), 'PATH': '/usr/bin:/bin'},
        check=True)
    health, tokenless, listed = json.loads(done.stdout)
    assert health == ['200 OK', {'status': 'ok'}]
    assert tokenless[0] == '401 Unauthorized'
    assert listed == ['200 OK', {'accelerator': []}]
