#!/bin/bash
# Benchmark (not a test): the 10-task playbook in benches/playbook/ on 10 and 50 lab hosts,
# first run (hosts reset before each sample) and idempotent re-run, side by side in one run:
#   hoist run                       (forks = hosts, connects afresh)
#   hoist run --persist             (connections kept warm by hoist's multiplexer, like ControlPersist)
#   ansible-core, default settings  (forks 5, ssh with its default ControlPersist)
#   ansible-core, tuned             (pipelining, ControlPersist 300s, forks = hosts)
#   pyinfra                         (parallel = hosts)
# Prints median wall time, controller CPU, peak controller memory (the whole process tree) and
# ratios against hoist. Needs root (the lab). Usage: benches/playbook.sh [RUNS] [HOST_COUNTS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-3}
COUNTS=${2:-"10 50"}
WORK=/var/tmp/hoist-bench
mkdir -p "$WORK"
cargo build --release --bin hoist
HOIST=$PWD/target/release/hoist
MAXN=$(echo $COUNTS | tr ' ' '\n' | sort -n | tail -1)
brought_up=0
if [ "$($HOIST lab status | grep -c running || true)" -lt "$MAXN" ]; then
  $HOIST lab down >/dev/null 2>&1 || true
  $HOIST lab up --hosts "$MAXN" --inventory "$WORK/lab.yml" >/dev/null
  brought_up=1
fi
trap '$HOIST mux stop >/dev/null 2>&1; [ $brought_up = 1 ] && $HOIST lab down >/dev/null 2>&1 || true' EXIT
if [ ! -x "$WORK/venv/bin/ansible-playbook" ] || [ ! -x "$WORK/venv/bin/pyinfra" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q ansible-core pyinfra
fi
V=$WORK/venv/bin
RUN=/var/tmp/hoist-lab/run
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_HOST_KEY_CHECKING=True
measure() { python3 "$ROOT/benches/measure_tree.py" "$RUNS" "$1" "${2:-}"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }
echo "hoist $($HOIST --version | cut -d' ' -f2) | $($V/ansible --version | head -1) | $($V/pyinfra --version 2>&1 | tail -1) | runs=$RUNS (median)"
printf '%-5s %-7s %-26s %8s %8s %8s %10s %10s\n' hosts phase tool wall_s cpu_s peak_mb "wall/hoist" "cpu/hoist"
cd benches/playbook
for N in $COUNTS; do
  INV=$WORK/bench-$N.yml
  {
    echo "all:"
    echo "  vars:"
    echo "    ansible_user: root"
    echo "    ansible_ssh_private_key_file: $RUN/id_ed25519"
    echo "    ansible_ssh_common_args: \"-o UserKnownHostsFile=$RUN/known_hosts -o StrictHostKeyChecking=yes\""
    echo "  children:"
    echo "    bench:"
    echo "      hosts:"
    for i in $(seq 1 "$N"); do echo "        lab$i: {ansible_host: 10.77.0.$((10 + i))}"; done
  } > "$INV"
  RESET="$HOIST exec bench -i $INV -f $N -- rm -rf /srv/bench"
  HOIST_CMD="$HOIST run bench.yml -i $INV -f $N"
  HOIST_P="$HOIST run bench.yml -i $INV -f $N --persist 600"
  ANS_DEF="$V/ansible-playbook -i $INV bench.yml"
  ANS_TUNED="env ANSIBLE_PIPELINING=1 ANSIBLE_SSH_ARGS='-o ControlMaster=auto -o ControlPersist=300s' $V/ansible-playbook -i $INV -f $N bench.yml"
  PYI="env BENCH_N=$N $V/pyinfra -y --parallel $N inventory.py deploy.py"
  for phase in first rerun; do
    if [ $phase = first ]; then setup=$RESET; else setup=""; $HOIST_CMD >/dev/null 2>&1; fi
    h=$(measure "$HOIST_CMD" "$setup")
    $HOIST_P >/dev/null 2>&1
    hp=$(measure "$HOIST_P" "$setup")
    [ $phase = rerun ] && $ANS_DEF >/dev/null 2>&1
    d=$(measure "$ANS_DEF" "$setup")
    [ $phase = rerun ] && eval "$ANS_TUNED" >/dev/null 2>&1
    t=$(measure "$ANS_TUNED" "$setup")
    [ $phase = rerun ] && $PYI >/dev/null 2>&1
    p=$(measure "$PYI" "$setup")
    hw=$(field "$h" wall_s); hc=$(field "$h" cpu_s)
    for row in "hoist run:$h" "hoist run --persist:$hp" "ansible-core default:$d" "ansible-core tuned:$t" "pyinfra:$p"; do
      name=${row%%:\{*}; js=${row#*:}
      w=$(field "$js" wall_s); c=$(field "$js" cpu_s); m=$(field "$js" peak_mb)
      printf '%-5s %-7s %-26s %8.2f %8.2f %8.1f %10.1f %10.1f\n' "$N" "$phase" "$name" "$w" "$c" "$m" \
        "$(python3 -c "print($w/$hw)")" "$(python3 -c "print($c/max($hc,1e-9))")"
    done
  done
done
