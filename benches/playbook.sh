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
. benches/lib.sh
bench_start "$COUNTS"
trap '$HOIST mux stop >/dev/null 2>&1; [ $brought_up = 1 ] && $HOIST lab down >/dev/null 2>&1 || true' EXIT
bench_venv ansible-core pyinfra
V=$WORK/venv/bin
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_HOST_KEY_CHECKING=True
echo "hoist $($HOIST --version | cut -d' ' -f2) | $($V/ansible --version | head -1) | $($V/pyinfra --version 2>&1 | tail -1) | runs=$RUNS (median)"
printf '%-5s %-7s %-26s %8s %8s %8s %10s %10s\n' hosts phase tool wall_s cpu_s peak_mb "wall/hoist" "cpu/hoist"
cd benches/playbook
for N in $COUNTS; do
  INV=$WORK/bench-$N.yml
  bench_inventory "$N" "$INV"
  RESET="$HOIST exec bench -i $INV -f $N -- rm -rf /srv/bench"
  HOIST_CMD="$HOIST run bench.yml -i $INV -f $N"
  HOIST_P="$HOIST run bench.yml -i $INV -f $N --persist 600"
  ANS_DEF="$V/ansible-playbook -i $INV bench.yml"
  ANS_TUNED="env ANSIBLE_PIPELINING=1 ANSIBLE_SSH_ARGS='-o ControlMaster=auto -o ControlPersist=300s' $V/ansible-playbook -i $INV -f $N bench.yml"
  PYI="env BENCH_N=$N $V/pyinfra -y --parallel $N inventory.py deploy.py"
  for phase in first rerun; do
    if [ $phase = first ]; then setup=$RESET; else setup=""; $HOIST_CMD >/dev/null 2>&1; fi
    h=$(measure "$RUNS" "$HOIST_CMD" "$setup")
    $HOIST_P >/dev/null 2>&1
    hp=$(measure "$RUNS" "$HOIST_P" "$setup")
    [ $phase = rerun ] && $ANS_DEF >/dev/null 2>&1
    d=$(measure "$RUNS" "$ANS_DEF" "$setup")
    [ $phase = rerun ] && eval "$ANS_TUNED" >/dev/null 2>&1
    t=$(measure "$RUNS" "$ANS_TUNED" "$setup")
    [ $phase = rerun ] && $PYI >/dev/null 2>&1
    p=$(measure "$RUNS" "$PYI" "$setup")
    hw=$(field "$h" wall_s); hc=$(field "$h" cpu_s)
    for row in "hoist run:$h" "hoist run --persist:$hp" "ansible-core default:$d" "ansible-core tuned:$t" "pyinfra:$p"; do
      name=${row%%:\{*}; js=${row#*:}
      w=$(field "$js" wall_s); c=$(field "$js" cpu_s); m=$(field "$js" peak_mb)
      printf '%-5s %-7s %-26s %8.2f %8.2f %8.1f %10.1f %10.1f\n' "$N" "$phase" "$name" "$w" "$c" "$m" \
        "$(ratio "$w" "$hw")" "$(ratio "$c" "$hc")"
    done
  done
done
