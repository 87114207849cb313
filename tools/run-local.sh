#!/bin/bash
# The main job on embedded defaults, on a fresh Debian machine, as root.
# Installs what it needs (Debian packages, .venv with the project, a local
# openstack-placement, python-openstackclient and nova for its scheduler code),
# then runs tools/local_stack.py: a local Placement and the API on SQLite, the
# agent on this host, the provider tree, Nova's query, attach and detach by REST
# and CLI. Arguments go to local_stack.py: --stop, --stop-at-end, --state-dir,
# --placement-port, --api-port.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

packages=()
python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3 python3-venv)
[ -e /usr/share/misc/pci.ids ] || packages+=(pci.ids)
# libvirt-python (the agent's VM attachments) builds against libvirt.
pkg-config --exists libvirt 2>/dev/null || packages+=(libvirt-dev pkg-config)
command -v gcc >/dev/null || packages+=(gcc)
python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(
    os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || packages+=(python3-dev)
if [ "${#packages[@]}" -gt 0 ]; then
    echo "==> apt-get install ${packages[*]}" >&2
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
# shellcheck source=tools/venv-lib.sh
. tools/venv-lib.sh
if ! .venv/bin/python -c 'import cyborg_placement, placement, nova, openstackclient' \
        2>/dev/null; then
    echo "==> installing the project, openstack-placement, python-openstackclient and nova into .venv" >&2
    venv_create .venv
    venv_install .venv -e . 'openstack-placement>=16.0.0' \
        'python-openstackclient>=7.0.0' 'nova>=34.0.0'
fi
exec .venv/bin/python tools/local_stack.py "$@"
