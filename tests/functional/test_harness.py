"""The real services the functional tests stand on, checked once."""
import sqlalchemy as sa

from tools.harness.local_placement import LocalPlacement


def _roundtrip(url):
    """The database of this test session, and a value written and read back."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text('CREATE TABLE harness_probe (id INTEGER)'))
            connection.execute(sa.text('INSERT INTO harness_probe VALUES (42)'))
            value = connection.execute(
                sa.text('SELECT id FROM harness_probe')).scalar()
            connection.execute(sa.text('DROP TABLE harness_probe'))
    finally:
        engine.dispose()
    return sa.make_url(url).database, value


def test_postgresql_database_is_the_sessions_own(postgresql_url):
    assert postgresql_url.startswith('postgresql')
    name, value = _roundtrip(postgresql_url)
    assert name.startswith('cyborg_test_') and value == 42


def test_mysql_database_is_the_sessions_own(mysql_url):
    assert mysql_url.startswith('mysql')
    name, value = _roundtrip(mysql_url)
    assert name.startswith('cyborg_test_') and value == 42


def test_placement_keeps_data_across_restart(tmp_path):
    server = LocalPlacement(tmp_path)
    server.start()
    try:
        import requests
        headers = {'X-Auth-Token': 'admin',
                   'OpenStack-API-Version': 'placement 1.20'}
        created = requests.post(server.url + '/resource_providers',
                                json={'name': 'restart-me'}, headers=headers)
        assert created.status_code == 200
        server.stop()
        server.start()
        found = requests.get(server.url + '/resource_providers?name=restart-me',
                             headers=headers).json()
        assert [p['name'] for p in found['resource_providers']] == [
            'restart-me']
    finally:
        server.stop()
