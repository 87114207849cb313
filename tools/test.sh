#!/bin/bash
# The one command that runs every test on a fresh Debian machine, as root:
# installs what the tests need (tools/install-test-deps.sh), runs the linter, then
# unit and functional tests against real Placement, PostgreSQL, MariaDB, libvirt
# and Nova. Extra arguments go to pytest (e.g. tools/test.sh -k placement).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-test-deps.sh

echo "==> ruff" >&2
.venv/bin/ruff check cyborg_placement cyborg_agent nova_ext tests benchmarks tools

echo "==> pytest" >&2
set +e
.venv/bin/pytest -ra -p no:cacheprovider "${@:-tests}"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here" >&2
    exit 1
fi
exit "$status"
