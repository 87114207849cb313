"""Fresh databases on the PostgreSQL and MySQL servers the test command runs.

Each test session (each pytest-xdist worker is a session of its own), and each
benchmark run, gets its own database, dropped at the end, so parallel runs never
see each other's rows. Server URLs come from ``CYBORG_TEST_POSTGRESQL_URL`` and
``CYBORG_TEST_MYSQL_URL`` (defaults: the loopback servers of the dev/CI machine).
"""
import contextlib
import os
import uuid

import sqlalchemy as sa

POSTGRESQL_URL = os.environ.get(
    'CYBORG_TEST_POSTGRESQL_URL',
    'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres')
MYSQL_URL = os.environ.get(
    'CYBORG_TEST_MYSQL_URL', 'mysql+pymysql://root@127.0.0.1:3306/mysql')


@contextlib.contextmanager
def _fresh_database(server_url: str, create: str, drop: str):
    name = f'cyborg_test_{uuid.uuid4().hex[:10]}'
    admin = sa.create_engine(server_url, isolation_level='AUTOCOMMIT')
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(create.format(name=name)))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise RuntimeError(
            f'database server at {server_url} is not usable: {exc}. Start it '
            '(tools/test.sh does) or set CYBORG_TEST_SKIP_POSTGRESQL=1 / '
            'CYBORG_TEST_SKIP_MYSQL=1 to skip these tests.') from exc
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(drop.format(name=name)))
        admin.dispose()


def fresh_postgresql():
    return _fresh_database(POSTGRESQL_URL, 'CREATE DATABASE {name}',
                           'DROP DATABASE IF EXISTS {name} WITH (FORCE)')


def fresh_mysql():
    return _fresh_database(
        MYSQL_URL, 'CREATE DATABASE {name} CHARACTER SET utf8mb4',
        'DROP DATABASE IF EXISTS {name}')
