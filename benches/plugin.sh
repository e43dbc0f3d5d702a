#!/bin/bash
# Benchmark (not a test): per-call cost of a WebAssembly plugin module against the equivalent
# built-in module, side by side in one run on the lab.
#   built-in   `command: true`                         (one exec on the host)
#   plugin     `sandbox_probe: {attempt: exec_granted}` (sandbox + one `true` through target.run)
# CALLS loop items per host on N hosts; median of RUNS. Per-call overhead = the difference of the
# wall times divided by the calls per host (hosts run in parallel).
# Then the in-process figures without any network: cargo bench -p hoist-plugins.
# Needs root (the lab). Usage: benches/plugin.sh [RUNS] [HOSTS] [CALLS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-5}
N=${2:-4}
CALLS=${3:-200}
WORK=/var/tmp/hoist-bench
mkdir -p "$WORK"
cargo build --release --bin hoist
HOIST=$PWD/target/release/hoist
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
CARGO_TARGET_DIR=$ROOT/target/wasm-plugins $HOIST plugin build tests/plugins/sandbox-probe >/dev/null
brought_up=0
if [ "$($HOIST lab status | grep -c running || true)" -lt "$N" ]; then
  $HOIST lab down >/dev/null 2>&1 || true
  $HOIST lab up --hosts "$N" --inventory "$WORK/lab.yml" >/dev/null
  brought_up=1
fi
trap '[ $brought_up = 1 ] && $HOIST lab down >/dev/null 2>&1 || true' EXIT
RUN=/var/tmp/hoist-lab/run
INV=$WORK/plugin-$N.yml
{
  echo "all:"
  echo "  vars:"
  echo "    ansible_user: root"
  echo "    ansible_ssh_private_key_file: $RUN/id_ed25519"
  echo "  children:"
  echo "    bench:"
  echo "      hosts:"
  for i in $(seq 1 "$N"); do echo "        lab$i: {ansible_host: 10.77.0.$((10 + i))}"; done
} > "$INV"
cat > "$WORK/builtin.yml" <<YML
- hosts: bench
  gather_facts: false
  tasks:
    - command: "true"
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
measure() { python3 "$ROOT/benches/measure_tree.py" "$RUNS" "$1"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }
B=$(measure "$HOIST run $WORK/builtin.yml -i $INV --known-hosts $RUN/known_hosts")
P=$(measure "$HOIST run $WORK/plugin.yml -i $INV --known-hosts $RUN/known_hosts")
bw=$(field "$B" wall_s); pw=$(field "$P" wall_s)
echo "hoist $($HOIST --version | cut -d' ' -f2) | $N hosts x $CALLS calls | runs=$RUNS (median)"
printf '%-34s %8s %8s %8s %12s\n' module wall_s cpu_s peak_mb per_call_ms
printf '%-34s %8.3f %8.3f %8.1f %12.3f\n' "built-in command: true" "$bw" "$(field "$B" cpu_s)" "$(field "$B" peak_mb)" "$(python3 -c "print($bw*1000/$CALLS)")"
printf '%-34s %8.3f %8.3f %8.1f %12.3f\n' "plugin sandbox_probe (exec true)" "$pw" "$(field "$P" cpu_s)" "$(field "$P" peak_mb)" "$(python3 -c "print($pw*1000/$CALLS)")"
python3 -c "b,p,c=$bw,$pw,$CALLS; print(f'plugin/built-in wall = {p/b:.2f}x; overhead per call = {(p-b)*1000/c:.3f} ms')"
