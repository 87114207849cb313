"""Property-based fuzz of the whole API with schemathesis, against a real
``cyborg-api`` on SQLite and on PostgreSQL.

Each operation of ``/openapi.json`` gets generated requests, valid and not
(in schemathesis' positive and negative modes), and the stateful phase
follows the description's links (report -> show -> attach -> detach, the
reconciler's feed -> state). No answer may be a server error, and every
answer's status and content type must be ones the description documents.
Strings may hold any code point, lone surrogates and NUL included, because
JSON bodies can. Runs are derandomized and bounded, so CI sees the same
requests every time within a few minutes.
"""
import hypothesis
import pytest
import schemathesis

from cyborg_placement.api import openapi
from tools.harness.api_server import make_host

CHECKS = ('not_a_server_error', 'status_code_conformance',
          'content_type_conformance')

SETTINGS = hypothesis.settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(hypothesis.HealthCheck))
STATEFUL_SEED = 12
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


@pytest.fixture
def api_schema(api_server, placement):
    """The API's own description, on a server that has one host whose units
    are in a real Placement pool, so attaches can succeed."""
    host = make_host(placement, 'fuzz-host', units=2)
    service = api_server.client(token='s', roles='service')
    assert service.put('/hosts/fuzz-host/accelerators',
                       json=host['report']).status_code == 200
    schema = schemathesis.openapi.from_url(api_server.url + '/openapi.json',
                                           config=_config())
    # "latest": the newest of whichever range the path serves (1.x, or 2.x
    # under /v2).
    schema.config.update(base_url=api_server.url, headers={
        'X-Auth-Token': 'admin', 'OpenStack-API-Version': 'accelerator latest'})
    # Any code point, not only what UTF-8 encodes: JSON strings may hold
    # lone surrogates ("\udbe8").
    schema.config.generation.codec = None
    return schema


@pytest.mark.parametrize('path,method', list(openapi.OPERATIONS))
def test_no_input_is_a_server_error(api_schema, path, method):
    """Valid requests and requests the description says are wrong."""
    operation = api_schema[path][method]
    described = openapi.OPERATIONS[(path, method)]
    has_input = ('{' in path or 'parameters' in described
                 or 'requestBody' in described)
    modes = list(schemathesis.GenerationMode) if has_input else [
        schemathesis.GenerationMode.POSITIVE]
    for mode in modes:
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        @SETTINGS
        def call(case):
            case.call_and_validate()

        call()


def test_no_sequence_of_calls_is_a_server_error(api_schema):
    """Sequences along the links; each failure is kept (not raised), so
    Hypothesis never replays a sequence against a server it changed."""
    failures = []
    calls = []

    class Workflow(api_schema.as_state_machine()):
        def validate_response(self, response, case, **kwargs):
            calls.append(response.status_code)
            try:
                super().validate_response(response, case, **kwargs)
            except schemathesis.errors.FailureGroup as exc:
                failures.append(str(exc))

    try:
        hypothesis.seed(STATEFUL_SEED)(Workflow).run(settings=STATEFUL_SETTINGS)
    except hypothesis.errors.Flaky:
        # Links depend on what the server holds, so a new sequence may
        # start like an earlier one and go elsewhere: exploration ends.
        pass
    assert calls, 'the stateful phase made no call'
    assert not failures, '\n'.join(failures)
