#!/bin/bash
# Make sure PostgreSQL and MariaDB answer on loopback the way the tests connect:
# postgres@127.0.0.1:5432 and root@127.0.0.1:3306, both without a password.
# Machines that already run them (the dev and CI machines) are left as they are;
# a fresh machine gets Debian's servers started and configured for that.
set -euo pipefail

log() { echo "==> $*" >&2; }

wait_for() {
    local what=$1; shift
    for _ in $(seq 60); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "$what did not come up" >&2
    return 1
}

pg_ok() { psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1'; }
my_ok() { mariadb -h 127.0.0.1 -u root -e 'select 1'; }

if [ "${CYBORG_TEST_SKIP_POSTGRESQL:-0}" != 1 ] && ! pg_ok >/dev/null 2>&1; then
    log "starting PostgreSQL"
    version=$(ls /etc/postgresql | sort -n | tail -1)
    hba=/etc/postgresql/$version/main/pg_hba.conf
    if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
        sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || \
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    wait_for PostgreSQL pg_ok
fi

if [ "${CYBORG_TEST_SKIP_MYSQL:-0}" != 1 ] && ! my_ok >/dev/null 2>&1; then
    log "starting MariaDB"
    if ! mariadb -u root -e 'select 1' >/dev/null 2>&1; then
        mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
        start-stop-daemon --start --oknodo --background \
            --exec /usr/sbin/mariadbd -- --user=mysql
        wait_for "MariaDB socket" mariadb -u root -e 'select 1'
    fi
    # Debian's root logs in through the unix socket only; the tests use TCP.
    mariadb -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA \
        unix_socket OR mysql_native_password USING PASSWORD('')"
    wait_for MariaDB my_ok
fi
