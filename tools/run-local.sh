#!/bin/bash
# The main job on embedded defaults, on a fresh Debian machine, as root:
# installs what it needs, then runs tools/local_stack.py (a local Placement and
# the API on SQLite, the agent on this host). Arguments go to local_stack.py,
# e.g. tools/run-local.sh --stop.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

if ! python3 -c 'import venv, ensurepip' 2>/dev/null || [ ! -e /usr/share/misc/pci.ids ]; then
    echo "==> apt-get install python3-venv pci.ids" >&2
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3 python3-venv \
        python3-dev gcc pci.ids >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv" >&2
    python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import cyborg_placement, placement' 2>/dev/null; then
    echo "==> installing the project and openstack-placement into .venv" >&2
    .venv/bin/pip install -q -U pip setuptools wheel
    .venv/bin/pip install -q -r requirements.txt 'openstack-placement>=16.0.0'
    .venv/bin/pip install -q --no-deps -e .
fi
exec .venv/bin/python tools/local_stack.py "$@"
