#!/bin/bash
# Benchmark (not a test): per-call cost of a WebAssembly plugin module against the equivalent
# built-in module, side by side in one run on the lab.
#   built-in   `raw: true`                              (one exec, nothing else)
#   built-in   `command: true`                          (one exec, with Ansible's result fields)
#   plugin     `sandbox_probe: {attempt: exec_granted}` (fresh sandbox + one `true` via target.run)
# CALLS loop items per host on N hosts; median of RUNS. Wall time per call = wall / calls per host
# (hosts run in parallel); controller CPU per call = CPU / (hosts x calls).
# Then the in-process figures without any network: cargo bench -p hoist-plugins.
# Needs root (the lab). Usage: benches/plugin.sh [RUNS] [HOSTS] [CALLS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-5}
N=${2:-4}
CALLS=${3:-200}
. benches/lib.sh
bench_build
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
CARGO_TARGET_DIR=$ROOT/target/wasm-plugins $HOIST plugin build tests/plugins/sandbox-probe >/dev/null
bench_lab "$N"
trap '[ $brought_up = 1 ] && $HOIST lab down >/dev/null 2>&1 || true' EXIT
INV=$WORK/plugin-$N.yml
bench_inventory "$N" "$INV"
cat > "$WORK/builtin.yml" <<YML
- hosts: bench
  gather_facts: false
  tasks:
    - command: "true"
      loop: "{{ range($CALLS) | list }}"
YML
cat > "$WORK/raw.yml" <<YML
- hosts: bench
  gather_facts: false
  tasks:
    - raw: "true"
      loop: "{{ range($CALLS) | list }}"
YML
cat > "$WORK/plugin.yml" <<YML
- hosts: bench
  gather_facts: false
  tasks:
    - sandbox_probe: { attempt: exec_granted }
      loop: "{{ range($CALLS) | list }}"
YML
export HOIST_PLUGIN_PATH=$ROOT/tests/plugins
$HOIST run "$WORK/plugin.yml" -i "$INV" --known-hosts "$RUN/known_hosts" >/dev/null   # warm the component cache
R=$(measure "$RUNS" "$HOIST run $WORK/raw.yml -i $INV --known-hosts $RUN/known_hosts")
B=$(measure "$RUNS" "$HOIST run $WORK/builtin.yml -i $INV --known-hosts $RUN/known_hosts")
P=$(measure "$RUNS" "$HOIST run $WORK/plugin.yml -i $INV --known-hosts $RUN/known_hosts")
echo "hoist $($HOIST --version | cut -d' ' -f2) | $N hosts x $CALLS calls | runs=$RUNS (median)"
python3 - "$R" "$B" "$P" "$N" "$CALLS" <<'PY'
import json, sys
r, b, p = (json.loads(x) for x in sys.argv[1:4])
n, calls = int(sys.argv[4]), int(sys.argv[5])
print(f"{'module':34} {'wall_s':>8} {'cpu_s':>8} {'peak_mb':>8} {'wall_ms/call':>13} {'cpu_us/call':>12}")
for name, m in [("built-in raw: true", r), ("built-in command: true", b), ("plugin sandbox_probe (exec true)", p)]:
    print(f"{name:34} {m['wall_s']:8.3f} {m['cpu_s']:8.3f} {m['peak_mb']:8.1f} {m['wall_s']*1000/calls:13.3f} {m['cpu_s']*1e6/(n*calls):12.1f}")
for name, m in [("raw", r), ("command", b)]:
    print(f"plugin vs {name}: wall {p['wall_s']/m['wall_s']:.2f}x, controller CPU {p['cpu_s']/m['cpu_s']:.2f}x, "
          f"+{(p['wall_s']-m['wall_s'])*1000/calls:.3f} ms wall and +{(p['cpu_s']-m['cpu_s'])*1e6/(n*calls):.1f} us CPU per call")
PY
