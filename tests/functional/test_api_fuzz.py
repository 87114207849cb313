"""Property-based fuzz of the whole API with schemathesis, against a real
``cyborg-api`` on SQLite and on PostgreSQL.

Each operation of ``/openapi.json`` gets generated requests, valid and not
(in schemathesis' positive and negative modes), each sent to both servers:
the runs are derandomized, so a test per backend generated the very same
requests twice, and generating them was most of the fuzz's CPU. The stateful phase
follows the description's links (report -> show -> attach -> detach, the
reconciler's feed -> state, a unit's holder or an instance attach -> bind)
from answers seeded with reported units, Nova's allocations and bindings,
a host attach and a pool Placement lost. No answer may be a server error, and every
answer's status and content type must be ones the description documents.
Strings may hold any code point, lone surrogates and NUL included, because
JSON bodies can. Runs are derandomized and bounded, so CI sees the same
requests every time within a few minutes.
"""
import collections

import hypothesis
import pytest
import schemathesis
from schemathesis.generation.stateful.state_machine import StepInput
from schemathesis.generation.stateful.state_machine import StepOutput

from cyborg_placement.api import openapi
from tests.conftest import API_BACKENDS
from tests.inprocess import scenario
from tools.harness.api_server import make_host

#: An admin, at the newest version of whichever range the path serves (1.x,
#: or 2.x under /v2).
HEADERS = {'X-Auth-Token': 'admin',
           'OpenStack-API-Version': 'accelerator latest'}
CHECKS = ('not_a_server_error', 'status_code_conformance',
          'content_type_conformance')

SETTINGS = hypothesis.settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(hypothesis.HealthCheck))
#: A run each; together about 30 s per database backend here.
STATEFUL_SEEDS = range(12, 15)
#: Operations the stateful phase must reach with a 2xx answer.
REACHED = ('PUT /instances/{instance_uuid}/bindings',
           'PUT /accelerators/{uuid}', 'DELETE /accelerators/{uuid}',
           'PUT /attachments/{uuid}/state')
#: Without shrinking: a sequence replayed on a server whose records it
#: changed takes other links, which Hypothesis calls flaky.
STATEFUL_SETTINGS = hypothesis.settings(
    SETTINGS, max_examples=40, stateful_step_count=6, derandomize=False,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        'generation': {'deterministic': True},
        'checks': {'enabled': False,
                   **{name: {'enabled': True} for name in CHECKS}},
    })


def _schema(server) -> schemathesis.BaseSchema:
    """The API's own description, as ``server`` serves it."""
    schema = schemathesis.openapi.from_url(server.url + '/openapi.json',
                                           config=_config())
    schema.config.update(base_url=server.url, headers=HEADERS)
    # Any code point, not only what UTF-8 encodes: JSON strings may hold
    # lone surrogates ("\udbe8").
    schema.config.generation.codec = None
    return schema


def _report_host(server, placement, name: str) -> None:
    """A host whose units are in a real Placement pool, so attaches can
    succeed."""
    host = make_host(placement, name, units=2)
    service = server.client(token='s', roles='service')
    assert service.put(f'/hosts/{name}/accelerators',
                       json=host['report']).status_code == 200


@pytest.fixture
def api_schema(api_server, placement):
    """The description of a server that has one reported host."""
    _report_host(api_server, placement, 'fuzz-host')
    return _schema(api_server)


@pytest.fixture
def every_backend(api_servers, placement) -> dict:
    """The session's server on each backend, each with a reported host of
    its own (they share one Placement)."""
    servers = {backend: api_servers(backend) for backend in API_BACKENDS}
    for backend, server in servers.items():
        _report_host(server, placement, f'fuzz-host-{backend}')
    return servers


@pytest.mark.parametrize('path,method', list(openapi.OPERATIONS))
def test_no_input_is_a_server_error(every_backend, path, method):
    """Valid requests and requests the description says are wrong, each
    on every backend; a failure names the backend."""
    operation = _schema(every_backend['sqlite'])[path][method]
    described = openapi.OPERATIONS[(path, method)]
    has_input = ('{' in path or 'parameters' in described
                 or 'requestBody' in described)
    modes = list(schemathesis.GenerationMode) if has_input else [
        schemathesis.GenerationMode.POSITIVE]
    for mode in modes:
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        @SETTINGS
        def call(case):
            for backend, server in every_backend.items():
                try:
                    case.call_and_validate(base_url=server.url)
                except Exception as exc:
                    exc.add_note(f'on the {backend} server')
                    raise

        call()


@pytest.fixture
def seeds(api_schema, api_server, placement, unique_name) -> list:
    """Answers the stateful phase starts from, so its links reach binds,
    attaches and detaches: each unit of two hosts, as ``show`` answers it,
    and the first host's feed.

    The first host has free units, units Nova's allocations hold and are
    bound (their holder leads to the bind), and a host attach (the feed
    leads to its state report). The second host's pool is one Placement
    lost after the host reported it: binds, feeds and attaches there read
    a pool Placement does not have.
    """
    service = api_server.client(token='s', roles='service')
    units = []
    for name, count in ((unique_name, 8), (f'{unique_name}-lost', 2)):
        host = make_host(placement, name, units=count)
        reported = service.put(f'/hosts/{name}/accelerators',
                               json=host['report'])
        assert reported.status_code == 200, reported.text
        units += [a['uuid'] for a in reported.json()['accelerators']]
        if name == unique_name:
            scenario.add_vcpus(placement, host)
            for _ in range(2):
                instance = scenario.schedule(placement, host, 1)
                assert service.put(f'/instances/{instance}/bindings',
                                   json={'host': name}).status_code == 200
        else:
            placement.delete(f'/resource_providers/{host["pool"]}')
    attached = api_server.client().put(f'/accelerators/{units[-3]}',
                                       json={'host': unique_name})
    assert attached.status_code == 200, attached.text
    cases = [api_schema['/accelerators/{uuid}']['GET'].Case(
        path_parameters={'uuid': uuid}, headers=HEADERS) for uuid in units]
    cases.append(api_schema['/hosts/{host}/attachments']['GET'].Case(
        path_parameters={'host': unique_name}, headers=HEADERS))
    return [StepOutput(case.call(), case) for case in cases]


def test_no_sequence_of_calls_is_a_server_error(api_schema, seeds):
    """Sequences along the links, from the seeded answers and from the
    operations that start sequences.

    Each failure is kept (not raised), so Hypothesis never replays a
    sequence against a server it changed. A run ends when Hypothesis finds
    that a sequence it replays went elsewhere (the server's records moved
    on), so several runs, each with a seed of its own, make the budget.
    The phase must reach binds, attaches and detaches that succeed.
    """
    failures = []
    calls = collections.Counter()

    class Workflow(api_schema.as_state_machine()):
        def setup(self):
            for output in seeds:  # as if this scenario had made the calls
                self.recorder.record_case(case=output.case)
                self.control.record_step(StepInput.initial(output.case),
                                         self.recorder)
            self._add_results_to_targets((), seeds)

        def validate_response(self, response, case, **kwargs):
            calls[case.operation.label, response.status_code // 100] += 1
            try:
                super().validate_response(response, case, **kwargs)
            except schemathesis.errors.FailureGroup as exc:
                failures.append(str(exc))

    for seed in STATEFUL_SEEDS:
        try:
            hypothesis.seed(seed)(Workflow).run(settings=STATEFUL_SETTINGS)
        except hypothesis.errors.FlakyStrategyDefinition:
            pass  # this run's exploration ends; the next seed goes on
    print('stateful calls by operation and status class:',
          sorted(calls.items()))
    assert not failures, '\n'.join(failures)
    reached = {label for (label, status), n in calls.items() if status == 2}
    assert reached >= set(REACHED), sorted(calls.items())
