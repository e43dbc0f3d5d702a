#!/bin/bash
# Makes sure a PostgreSQL server runs on this machine for the control plane's tests (installing
# Debian's package if needed), with a role `hoist_test` that may create databases, and drops
# the databases earlier test runs left. Prints the HOIST_TEST_POSTGRES URL (no database name:
# each test creates its own).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "tests/postgres.sh needs root" >&2; exit 1; }
if ! command -v pg_lsclusters >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >&2
fi
cluster=$(pg_lsclusters -h | head -1)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  pg_createcluster "$version" main >&2
  cluster=$(pg_lsclusters -h | head -1)
fi
read -r version name port status _ <<<"$cluster"
if [ "$status" != online ]; then
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start >&2
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
psql_admin() { runuser -u postgres -- psql -X -q -p "$port" -v ON_ERROR_STOP=1 "$@"; }
psql_admin -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hoist_test') THEN
    CREATE ROLE hoist_test LOGIN CREATEDB PASSWORD 'hoist-test-password';
  END IF; END \$\$;" >&2
for db in $(psql_admin -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'hoist\_t\_%'"); do
  psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >&2
done
echo "postgres://hoist_test:hoist-test-password@127.0.0.1:$port"
