#!/bin/bash
# The one command that runs every test on a fresh Debian machine, as root:
# installs what the tests need (tools/install-test-deps.sh), runs the linter, then
# unit and functional tests against real Placement, PostgreSQL, MariaDB, libvirt
# and Nova. Extra arguments go to pytest (e.g. tools/test.sh -k placement).
#
# Tests run on CYBORG_TEST_WORKERS pytest-xdist workers (default 3: on two
# cores most of a test's time is spent waiting on servers, so more workers
# than cores pays; 0 runs them in this process). --dist loadgroup keeps the
# tests that share a module-scoped fixture on one worker (tests/conftest.py);
# each worker starts its own session servers and databases.
set -euo pipefail
cd "$(dirname "$0")/.."

# The tests start over a thousand Python processes. With
# PYTHONDONTWRITEBYTECODE set (some images set it), each compiled our
# modules again, and each pytest worker parsed and rewrote every test
# module again: about 3 s of CPU per worker on collection alone
# (docs/testing.md). The installed dependencies are byte-compiled by the
# install; our modules get their __pycache__ (git ignores it) here.
unset PYTHONDONTWRITEBYTECODE

tools/install-test-deps.sh

echo "==> ruff" >&2
.venv/bin/ruff check cyborg_placement cyborg_agent nova_ext tests benchmarks tools

echo "==> pytest" >&2
set +e
.venv/bin/pytest -ra -p no:cacheprovider \
    -n "${CYBORG_TEST_WORKERS:-3}" --dist loadgroup "${@:-tests}"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here" >&2
    exit 1
fi
exit "$status"
