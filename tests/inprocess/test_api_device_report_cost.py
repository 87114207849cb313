"""What a device report costs the API's database, counted statement by
statement on SQLite, PostgreSQL and MySQL: a report that changes nothing
writes nothing, takes no write lock and reads the same few times whatever
the host's size; a report that changes some units writes those rows only."""
import contextlib
import copy
import shutil

import pytest
import sqlalchemy as sa

from tests.conftest import make_conf
from tools.harness import ini
from tools.harness.api_server import make_host
from tools.harness.api_server import migrate

WRITES = ('INSERT', 'UPDATE', 'DELETE')


@pytest.fixture(params=['sqlite', 'postgresql', 'mysql'])
def api_conf(request, tmp_path, migrated_database, placement_endpoint):
    """The in-process API (see conftest) on each database backend."""
    if request.param == 'sqlite':
        shutil.copy(migrated_database, tmp_path / 'cyborg.sqlite')
        url = f'sqlite:///{tmp_path / "cyborg.sqlite"}'
    else:
        url = request.getfixturevalue(f'{request.param}_url')
        migrate(url)
    return make_conf(tmp_path, {
        'api': {'auth_strategy': 'noauth'},
        'database': {'connection': url},
        'placement': ini.token_auth(placement_endpoint)})


@contextlib.contextmanager
def _statements(api_conf):
    """Every statement sent to the API's database, as (kind, rows)."""
    database = sa.make_url(api_conf.database.connection).database
    sent = []

    def record(conn, _cursor, statement, parameters, _context, executemany):
        if conn.engine.url.database == database:
            rows = len(parameters) if executemany else 1
            sent.append((statement.split(None, 2)[0].upper()
                         if not statement.startswith('BEGIN') else
                         statement.strip().upper(), rows))
    sa.event.listen(sa.Engine, 'before_cursor_execute', record)
    try:
        yield sent
    finally:
        sa.event.remove(sa.Engine, 'before_cursor_execute', record)


def _report(service, host, units):
    answer = service.put(f'/hosts/{host}/accelerators',
                         json={'accelerators': units})
    assert answer.status_code == 200, answer.json
    return answer.json['accelerators']


def _written(sent) -> dict[str, int]:
    rows = {}
    for kind, n in sent:
        if kind in WRITES:
            rows[kind] = rows.get(kind, 0) + n
    return rows


def test_an_unchanged_report_writes_nothing_whatever_the_size(
        service, placement, api_conf, unique_name):
    cost = {}
    for size in (4, 40):
        host = f'{unique_name}-{size}'
        units = make_host(placement, host, units=size)['report'][
            'accelerators']
        first = _report(service, host, units)
        with _statements(api_conf) as sent:
            again = _report(service, host, units)
        assert again == first
        assert _written(sent) == {}
        assert 'BEGIN IMMEDIATE' not in dict(sent)  # no SQLite write lock
        cost[size] = len(sent)
    assert cost[4] == cost[40], cost


def test_a_report_writes_the_changed_units_only(
        service, placement, api_conf, unique_name):
    units = make_host(placement, unique_name, units=40)['report'][
        'accelerators']
    before = {a['pci_address']: a for a in _report(service, unique_name,
                                                   units)}
    changed = copy.deepcopy(units)
    changed[7]['numa_node'] = 1                           # one moved
    del changed[20]                                       # one gone
    changed.append(dict(units[0], pci_address='0000:3c:00.0'))  # one new

    with _statements(api_conf) as sent:
        after = {a['pci_address']: a for a in _report(service, unique_name,
                                                      changed)}

    # The units, and the digest of the host's report.
    assert _written(sent) == {'UPDATE': 2, 'DELETE': 1, 'INSERT': 1}
    moved = units[7]['pci_address']
    assert after[moved]['revision'] == before[moved]['revision'] + 1
    assert units[20]['pci_address'] not in after
    untouched = [a for a in after if a not in (moved, '0000:3c:00.0')]
    assert len(untouched) == 38
    assert all(after[a] == before[a] for a in untouched)


def test_a_held_unit_gone_from_the_host_is_written_once(
        admin, service, placement, api_conf, unique_name):
    units = make_host(placement, unique_name, units=4)['report'][
        'accelerators']
    records = _report(service, unique_name, units)
    attached = admin.put(f'/accelerators/{records[0]["uuid"]}',
                         json={'host': unique_name})
    assert attached.status_code == 200, attached.json

    with _statements(api_conf) as sent:
        _report(service, unique_name, units[1:])
    assert _written(sent) == {'UPDATE': 2}  # kept as missing; the digest
    with _statements(api_conf) as sent:
        shown = _report(service, unique_name, units[1:])
    assert _written(sent) == {}
    assert [a['state'] for a in shown if a['uuid'] == records[0]['uuid']
            ] == ['missing']
