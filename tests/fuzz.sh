#!/bin/bash
# A long fuzzing run of the parsers that read foreign text (core/tests/fuzz.rs: YAML with
# positions, INI inventories, host patterns, known_hosts, templates), in release mode.
#   bash tests/fuzz.sh [CASES_PER_TARGET]   (default 1,000,000; tests/run.sh runs a bounded one)
# A failing input is saved in core/tests/fuzz.proptest-regressions and replayed first by every
# later run: commit it with the fix and a unit test of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || . "$HOME/.cargo/env"
PROPTEST_CASES=${1:-1000000} cargo test --release -p hoist-core --test fuzz -- --test-threads "$(nproc)"
