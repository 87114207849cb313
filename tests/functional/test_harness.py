"""The real services the functional tests stand on, checked once."""
import sqlalchemy as sa

from cyborg_placement.local_placement import LocalPlacement


def _roundtrip(url):
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            tables = sa.inspect(connection).get_table_names()
            connection.execute(sa.text('CREATE TABLE probe (id INTEGER)'))
            connection.execute(sa.text('INSERT INTO probe VALUES (42)'))
            value = connection.execute(sa.text('SELECT id FROM probe')).scalar()
            connection.execute(sa.text('DROP TABLE probe'))
    finally:
        engine.dispose()
    return tables, value


def test_postgresql_database_is_fresh_and_writable(postgresql_url):
    assert postgresql_url.startswith('postgresql')
    assert _roundtrip(postgresql_url) == ([], 42)


def test_mysql_database_is_fresh_and_writable(mysql_url):
    assert mysql_url.startswith('mysql')
    assert _roundtrip(mysql_url) == ([], 42)


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
