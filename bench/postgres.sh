#!/usr/bin/env bash
# `bench postgres` on a throwaway PostgreSQL cluster: initdb into a temporary
# folder, postgres on a free loopback port (as nobody under root: PostgreSQL
# refuses to run as root), the benchmark, then the cluster is stopped and
# removed. Arguments go to `bench postgres` (e.g. --seconds 10).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_postgres=()
if [ "$(id -u)" = 0 ]; then
    chown nobody "$dir"
    as_postgres=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
stop() {
    "${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT
"${as_postgres[@]}" "$bin/initdb" -D "$dir/data" -U inbound -A trust --locale=C -E UTF8 >/dev/null
# Durable like production: fsync and synchronous_commit stay on.
"${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c max_connections=100" start >/dev/null
./target/release/bench postgres --url "postgres://inbound@127.0.0.1:$port/postgres" "$@"
