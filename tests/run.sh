#!/bin/bash
# The test command (README, .ci/run): unit and snapshot tests, CLI tests, and end-to-end tests
# against a fresh lab fleet that this script brings up and always takes down again.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "tests/run.sh needs root: the lab uses network namespaces, mounts and cgroups" >&2; exit 1; }
command -v cargo >/dev/null || . "$HOME/.cargo/env"
step() { echo "[tests/run.sh $(date -u +%H:%M:%S)] $*"; }
step "lab dependencies"
bash lab/lab.sh deps
# PostgreSQL for the control plane's tests (server/, tests/server): started here, each test
# makes its own database.
step "PostgreSQL"
HOIST_TEST_POSTGRES=$(bash tests/postgres.sh)
export HOIST_TEST_POSTGRES
# Where tests/postgres.sh keeps the test authority and the client certificate (TLS tests).
export HOIST_TEST_POSTGRES_TLS=/var/lib/postgresql/hoist-test-tls
# The web UI's browser test (tests/ui): Debian's chromium driven by playwright-core from npm;
# the secrets tests (tests/cli/secrets.rs): the kernel keyring (keyctl) and the Secret Service
# (gnome-keyring on a private D-Bus).
step "browser, keyrings"
deps=()
command -v chromium >/dev/null || deps+=(chromium)
command -v npm >/dev/null || deps+=(nodejs npm)
command -v keyctl >/dev/null || deps+=(keyutils)
command -v dbus-run-session >/dev/null || deps+=(dbus)
command -v gnome-keyring-daemon >/dev/null || deps+=(gnome-keyring)
if [ ${#deps[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${deps[@]}"
fi
[ -d tests/ui/node_modules/playwright-core ] || (cd tests/ui && npm ci --no-audit --no-fund)
# ansible-core from PyPI, for the compatibility test (tests/compat), kept between runs.
VENV=${HOIST_TEST_VENV:-/var/tmp/hoist-test/venv}
# Pinned: the conformance tests compare with exactly this release.
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import ansible.release as r; assert r.__version__ == "2.19.14"' 2>/dev/null \
  || "$VENV/bin/pip" install -q 'ansible-core==2.19.14'
# passlib: ansible-core's password_hash needs it (the template conformance test compares).
"$VENV/bin/python" -c 'import passlib' 2>/dev/null || "$VENV/bin/pip" install -q 'passlib==1.7.4'
export HOIST_ANSIBLE_PLAYBOOK=$VENV/bin/ansible-playbook
step "build"
cargo build --bins --tests
HOIST=./target/debug/hoist
# WebAssembly plugins: the examples and the test plugins, built as plugin authors build them.
step "plugins"
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
for d in plugins/examples/*/ tests/plugins/*/; do
  if [ -f "$d/plugin.toml" ]; then CARGO_TARGET_DIR=$PWD/target/wasm-plugins $HOIST plugin build "$d"; fi
done
# The examples' own unit tests, on this machine's target (one package at a time: each enables
# one kind of the SDK).
for d in plugins/examples/*/; do
  if [ -f "$d/plugin.toml" ]; then (cd "$d" && CARGO_TARGET_DIR=$OLDPWD/target/wasm-plugins-host cargo test -q); fi
done
# Fuzzing of the foreign-text parsers, bounded (about a minute; `tests/fuzz.sh` runs long).
step "fuzz"
PROPTEST_CASES=${HOIST_FUZZ_CASES:-40000} cargo test -q -p hoist-core --test fuzz

INV=target/lab-test.yml
$HOIST lab down 2>/dev/null || true                    # leftovers from an interrupted run
trap '$HOIST lab down' EXIT
step "lab up"
$HOIST lab up --hosts "${HOIST_TEST_HOSTS:-4}" --packages tree,hello,curl,cron,python3-apt,haproxy,socat,whois --inventory "$INV"
export HOIST_LAB_INVENTORY=$PWD/$INV
status=0
step "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast -E 'not binary(ha) and not binary(concurrency)' || status=$?
else
  cargo test --workspace --no-fail-fast -- --skip ha_stack_end_to_end --skip concurrency:: || status=$?
fi
$HOIST lab down

# Concurrency (tests/concurrency): delegation, throttle and concurrent edits on a lab of many
# hosts (50 by default), each test under a watchdog.
step "many-host lab up"
$HOIST lab up --hosts "${HOIST_MANY_HOSTS:-50}" --packages tree --inventory target/lab-many.yml
export HOIST_MANY_LAB_INVENTORY=$PWD/target/lab-many.yml
# ansible-core's own integration targets (tests/ansible-targets): the CI subset, under
# ansible-core and hoist on two fresh hosts of this lab; every result must be what
# targets.txt says (tests/ansible-targets/run.py without --subset runs them all).
step "ansible-core integration targets (CI subset)"
MANY=${HOIST_MANY_HOSTS:-50}
"$VENV/bin/python" tests/ansible-targets/run.py --inventory target/lab-many.yml --subset ci \
  --hosts "lab$((MANY - 2)),lab$((MANY - 1))" --ansible-playbook "$HOIST_ANSIBLE_PLAYBOOK" || status=$?
step "concurrency"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast -E 'binary(concurrency)' || status=$?
else
  cargo test -p hoist --test concurrency || status=$?
fi
$HOIST lab down

# The HA stack (tests/ha) on its own 8-host lab with the stack's packages.
step "HA lab up"
$HOIST lab up --hosts 8 --packages @ha --inventory target/lab-ha-hosts.yml
export HOIST_HA_LAB=1
step "HA stack"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --no-capture -E 'binary(ha)' || status=$?
else
  cargo test -p hoist --test ha -- --nocapture || status=$?
fi
step "done (status $status)"
exit $status
