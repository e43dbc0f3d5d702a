#!/bin/bash
# Makes sure a PostgreSQL server runs on this machine for the control plane's tests (installing
# Debian's package if needed), with a role `hoist_test` that may create databases, and drops
# the databases earlier test runs left. Prints the HOIST_TEST_POSTGRES URL (no database name:
# each test creates its own).
# TLS for the connection tests: the server presents a certificate for `localhost` signed by a
# test authority ($tls/ca.crt, HOIST_TEST_POSTGRES_TLS names the directory), and the role
# `hoist_test_cert` may only log in over TLS with the client certificate $tls/client.crt.
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
tls=/var/lib/postgresql/hoist-test-tls
if ! { [ -f "$tls/client.key" ] && openssl x509 -checkend 86400 -noout -in "$tls/server.crt" >/dev/null 2>&1; }; then
  rm -rf "$tls" && mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=hoist test authority" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
  issue() { # name subject extensions
    openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$tls/$1.key" -out "$tls/$1.csr" 2>/dev/null
    printf '%s\n' "$3" >"$tls/$1.ext"
    openssl x509 -req -in "$tls/$1.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
      -days 825 -extfile "$tls/$1.ext" -out "$tls/$1.crt" 2>/dev/null
  }
  issue server "/CN=localhost" "subjectAltName=DNS:localhost"
  issue client "/CN=hoist_test_cert" "extendedKeyUsage=clientAuth"
  chown -R postgres:postgres "$tls" && chmod 700 "$tls" && chmod 600 "$tls"/*.key
fi
psql_admin -c "ALTER SYSTEM SET ssl = on" \
  -c "ALTER SYSTEM SET ssl_cert_file = '$tls/server.crt'" \
  -c "ALTER SYSTEM SET ssl_key_file = '$tls/server.key'" \
  -c "ALTER SYSTEM SET ssl_ca_file = '$tls/ca.crt'" >&2
hba=$(psql_admin -At -c "SHOW hba_file")
if ! grep -q hoist_test_cert "$hba"; then
  { echo "hostssl all hoist_test_cert 127.0.0.1/32 cert"
    echo "hostssl all hoist_test_cert ::1/128 cert"
    echo "host all hoist_test_cert all reject"
    cat "$hba"; } >"$hba.new" && chown postgres:postgres "$hba.new" && mv "$hba.new" "$hba"
fi
psql_admin -c "SELECT pg_reload_conf()" >/dev/null
psql_admin -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hoist_test_cert') THEN
    CREATE ROLE hoist_test_cert LOGIN IN ROLE hoist_test;
  END IF; END \$\$;" >&2
for db in $(psql_admin -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'hoist\_t\_%'"); do
  psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >&2
done
echo "postgres://hoist_test:hoist-test-password@127.0.0.1:$port"
