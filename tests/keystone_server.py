"""A real Keystone (the ``keystone`` package) on loopback, for password-auth tests.

SQLite, fernet tokens, bootstrapped with an ``admin`` user, and a catalog to
which tests add the services they run (Placement, our API). The database at
its schema's head and the key repositories are a copy of those
``keystone-manage`` made once for this installation of Keystone
(:mod:`tools.harness.templates`); only ``bootstrap``, which records this
server's own URL, runs for each.
"""
import importlib.metadata
import pathlib
import subprocess
import sys

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tools.harness import ini
from tools.harness import templates
from tools.harness.server_process import free_port
from tools.harness.server_process import ServerProcess

ADMIN_PASSWORD = 'keystone-admin-secret'
REGION = 'RegionOne'
REPO = pathlib.Path(__file__).resolve().parents[1]


class LocalKeystone(ServerProcess):

    def __init__(self, workdir: pathlib.Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        bindir = pathlib.Path(sys.executable).parent
        self._manage = str(bindir / 'keystone-manage')
        self.conf_file = workdir / 'keystone.conf'
        super().__init__(
            [str(bindir / 'gunicorn'), '-w', '1', '--no-control-socket',
             '-b', f'127.0.0.1:{self.port}', '--log-level', 'warning',
             '--pythonpath', str(REPO), 'tests.keystone_wsgi:application'],
            url=f'http://127.0.0.1:{self.port}',
            log_path=workdir / 'keystone.log',
            env={'OS_KEYSTONE_CONFIG_FILES': str(self.conf_file)},
            ready_path='/v3')

    @property
    def auth_url(self) -> str:
        return self.url + '/v3'

    def _run(self, conf_file: pathlib.Path, *args: str) -> None:
        subprocess.run([self._manage, '--config-file', str(conf_file),
                        *args], check=True, capture_output=True)

    @staticmethod
    def _write_conf(conf_file: pathlib.Path, directory: pathlib.Path) -> None:
        """keystone.conf for the database and keys in ``directory``."""
        ini.write(conf_file, {
            'DEFAULT': {'debug': 'false'},
            'database': {
                'connection': f'sqlite:///{directory / "keystone.sqlite"}'},
            'fernet_tokens': {
                'key_repository': str(directory / 'fernet-keys')},
            'credential': {
                'key_repository': str(directory / 'credential-keys')},
            'token': {'provider': 'fernet'},
            # bcrypt's fewest rounds: each login and user made costs
            # milliseconds instead of a second of a shared CPU (tempest
            # makes and logs in six users per test class).
            'identity': {'password_hash_rounds': '4'},
        })

    def _make_template(self, directory: pathlib.Path) -> None:
        """The schema and the key repositories, made by keystone-manage."""
        conf_file = directory / 'keystone-template.conf'
        self._write_conf(conf_file, directory)
        self._run(conf_file, 'db_sync')
        for setup in ('fernet_setup', 'credential_setup'):
            self._run(conf_file, setup, '--keystone-user', 'root',
                      '--keystone-group', 'root')
        conf_file.unlink()

    def prepare(self) -> None:
        self._write_conf(self.conf_file, self.workdir)
        templates.copy('keystone', importlib.metadata.version('keystone'),
                       self._make_template, self.workdir)
        self._run(self.conf_file, 'bootstrap',
                  '--bootstrap-password', ADMIN_PASSWORD,
                  '--bootstrap-admin-url', self.auth_url,
                  '--bootstrap-public-url', self.auth_url,
                  '--bootstrap-internal-url', self.auth_url,
                  '--bootstrap-region-id', REGION)

    def admin_session(self) -> ks_session.Session:
        return ks_session.Session(auth=v3.Password(
            auth_url=self.auth_url, username='admin', password=ADMIN_PASSWORD,
            project_name='admin', user_domain_id='default',
            project_domain_id='default'))

    def password_options(self) -> dict[str, str]:
        """keystoneauth options for ``auth_type = password`` as admin."""
        return {'auth_type': 'password', 'auth_url': self.auth_url,
                'username': 'admin', 'password': ADMIN_PASSWORD,
                'project_name': 'admin', 'user_domain_name': 'Default',
                'project_domain_name': 'Default', 'region_name': REGION}

    def authtoken_options(self) -> dict[str, str]:
        """``[keystone_authtoken]`` for a service validating tokens here."""
        return dict(self.password_options(), www_authenticate_uri=self.auth_url)

    def register_service(self, service_type: str, url: str,
                         region: str = REGION) -> list[str]:
        """Add ``service_type`` at ``url`` to the catalog (all interfaces),
        in ``region`` (made if new: a test's own region keeps its endpoint
        apart from other tests' of the same type); returns the endpoints'
        ids, for :meth:`remove_service`.

        One service entry per type, with an endpoint per region, as in a
        real cloud: clients that take the first entry of a type and then
        pick by region (tempest does) find theirs while another test's
        endpoint of that type is registered too."""
        sess = self.admin_session()
        if region != REGION:
            sess.post(self.auth_url + '/regions',
                      json={'region': {'id': region}})
        found = sess.get(self.auth_url + '/services',
                         params={'type': service_type}).json()['services']
        service_id = found[0]['id'] if found else sess.post(
            self.auth_url + '/services',
            json={'service': {'type': service_type, 'name': service_type}},
        ).json()['service']['id']
        return [sess.post(self.auth_url + '/endpoints', json={'endpoint': {
            'service_id': service_id, 'interface': interface, 'url': url,
            'region_id': region}}).json()['endpoint']['id']
            for interface in ('public', 'internal', 'admin')]

    def remove_service(self, endpoint_ids: list[str]) -> None:
        """Take a registration's endpoints out of the catalog again (and
        the service entry with its last endpoint), so later tests of the
        session find only theirs."""
        sess = self.admin_session()
        service_ids = set()
        for endpoint_id in endpoint_ids:
            url = f'{self.auth_url}/endpoints/{endpoint_id}'
            service_ids.add(sess.get(url).json()['endpoint']['service_id'])
            sess.delete(url)
        for service_id in service_ids:
            if not sess.get(self.auth_url + '/endpoints', params={
                    'service_id': service_id}).json()['endpoints']:
                sess.delete(f'{self.auth_url}/services/{service_id}')

    def _find_or_make(self, sess, kind: str, name: str, body: dict) -> str:
        found = sess.get(f'{self.auth_url}/{kind}s',
                         params={'name': name}).json()[f'{kind}s']
        if found:
            return found[0]['id']
        return sess.post(f'{self.auth_url}/{kind}s', json={
            kind: {'name': name, **body}}).json()[kind]['id']

    def project(self, name: str) -> str:
        """The id of the project ``name`` (made if missing)."""
        return self._find_or_make(self.admin_session(), 'project', name,
                                  {'domain_id': 'default'})

    def user(self, name: str, project_id: str, roles: list[str]) -> dict:
        """A user with ``roles`` (made if missing, such as ``service``) on
        the project; returns its keystoneauth password options."""
        sess = self.admin_session()
        password = f'{name}-secret'
        user_id = self._find_or_make(sess, 'user', name, {
            'password': password, 'domain_id': 'default',
            'default_project_id': project_id})
        for role in roles:
            role_id = self._find_or_make(sess, 'role', role, {})
            sess.put(f'{self.auth_url}/projects/{project_id}/users/{user_id}'
                     f'/roles/{role_id}')
        return {'auth_url': self.auth_url, 'username': name,
                'password': password, 'project_id': project_id,
                'user_domain_id': 'default', 'user_id': user_id}

    def token(self, options: dict) -> str:
        """A project-scoped token for a user made by :meth:`user`."""
        return ks_session.Session(auth=v3.Password(
            auth_url=options['auth_url'], username=options['username'],
            password=options['password'], project_id=options['project_id'],
            user_domain_id=options['user_domain_id'])).get_token()

    def add_user(self, name: str, project: str, roles: list[str]
                 ) -> dict[str, str]:
        """A user with ``roles`` in the project named ``project`` (both
        made if missing); returns keystoneauth password options, with the
        admin's, that log in as it."""
        made = self.user(name, self.project(project), roles)
        return dict(self.password_options(), username=name,
                    password=made['password'], project_name=project)
