#!/bin/bash
# Install everything the tests need on a Debian machine, as root: the packages of
# bindep.txt's "test" profile, running PostgreSQL and MariaDB servers reachable on
# loopback without a password, a running RabbitMQ (guest/guest on loopback), and a virtualenv (.venv) with the project and its
# test requirements. Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

log() { echo "==> $*" >&2; }

apt_install() {
    if [ "$#" -gt 0 ]; then
        log "apt-get install $*"
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    fi
}

# Python itself first: bindep runs in the virtualenv.
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3 python3-venv python3-dev
fi
# shellcheck source=tools/venv-lib.sh
. tools/venv-lib.sh
venv_create .venv bindep

# System packages: only those bindep reports missing (it exits 1 and lists
# them); exiting non-zero with no list is bindep failing, not a missing package.
status=0
missing=$(.venv/bin/bindep -b test) || status=$?
if [ "$status" -ne 0 ] && [ -z "$missing" ]; then
    echo "bindep failed (exit $status)" >&2
    exit 1
fi
# shellcheck disable=SC2086
apt_install $missing

# The Debian QEMU driver refuses to load without its user and group.
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null || \
    useradd --system --gid libvirt-qemu --no-create-home \
        --shell /usr/sbin/nologin libvirt-qemu

tools/start-databases.sh
tools/start-rabbitmq.sh

# Cyborg's tempest plugin runs against our /v2 from a virtualenv of its own;
# rebuilt when the pins change. Its install runs beside .venv's: each keeps about
# one core busy, and CI has two.
tempest_install=
if ! cmp -s tools/tempest-requirements.txt .tempest-venv/tempest-requirements.txt; then
    log "creating .tempest-venv (tools/tempest-requirements.txt)"
    rm -rf .tempest-venv
    # uv's own virtualenv, without pip: 0.1 s instead of 3.5 s.
    .venv/bin/uv venv -q --python python3 .tempest-venv
    venv_install .tempest-venv -r tools/tempest-requirements.txt &
    tempest_install=$!
    # Should .venv's install fail, this one is not left running on its own.
    trap 'kill "$tempest_install" 2>/dev/null || true' EXIT
fi

log "installing the project, its libvirt extra and the test requirements into .venv"
venv_install .venv -r test-requirements.txt -e '.[libvirt]'
if [ -n "$tempest_install" ]; then
    if ! wait "$tempest_install"; then
        echo "installing tools/tempest-requirements.txt into .tempest-venv failed" >&2
        exit 1
    fi
    trap - EXIT
    cp tools/tempest-requirements.txt .tempest-venv/tempest-requirements.txt
fi
