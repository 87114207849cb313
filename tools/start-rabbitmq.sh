#!/bin/bash
# Make sure RabbitMQ answers on 127.0.0.1:5672 the way the tests connect
# (guest/guest, which RabbitMQ accepts from loopback only). A machine that
# already runs it (the dev and CI machines) is left as it is; a fresh machine
# gets Debian's rabbitmq-server started. Tests share the default virtual host:
# each uses its own host names (RPC queues) and notification topics.
set -euo pipefail

log() { echo "==> $*" >&2; }

mq_ok() { timeout 2 bash -c 'echo > /dev/tcp/127.0.0.1/5672' 2>/dev/null; }

if [ "${CYBORG_TEST_SKIP_RABBITMQ:-0}" = 1 ] || mq_ok; then
    exit 0
fi
log "starting RabbitMQ"
# Debian's wrapper switches to the rabbitmq user itself.
start-stop-daemon --start --oknodo --background \
    --exec /usr/sbin/rabbitmq-server
for _ in $(seq 90); do
    if mq_ok && rabbitmqctl await_startup >/dev/null 2>&1; then exit 0; fi
    sleep 1
done
echo "RabbitMQ did not come up" >&2
exit 1
