"""Read a tempest run's subunit v2 stream (stdin) into JSON (stdout): one
object per test with its id, status and reason (a skip's reason, a
failure's traceback).

Runs under the tempest virtualenv's python, which has python-subunit and
testtools (ours has neither): ``.tempest-venv/bin/python -m
tools.harness.tempest_results < run.subunit``.
"""
import json
import sys

import subunit
import testtools

#: Where a result's reason is, by status.
_REASON = {'skip': 'reason', 'fail': 'traceback'}


def read(stream) -> list[dict]:
    """Every test the stream reports, with its final status."""
    found = []

    def on_test(test: dict) -> None:
        if test['status'] == 'exists':
            return  # Listed before the run; its result comes later.
        details = test['details']
        reason = details.get(_REASON.get(test['status'], ''))
        found.append({'id': test['id'], 'status': test['status'],
                      'reason': reason.as_text() if reason else ''})

    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    subunit.ByteStreamToStreamResult(
        stream, non_subunit_name='stdout').run(result)
    result.stopTestRun()
    return found


if __name__ == '__main__':
    json.dump(read(sys.stdin.buffer), sys.stdout)
