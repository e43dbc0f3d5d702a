#!/bin/bash
# Benchmark (not a test): how controller cost grows with the number of hosts. One 10-task playbook
# with a delegated task (benches/playbook/scale.yml) on 10, 50 and as many lab hosts as the lab
# holds (240), first run (hosts reset before each sample) and idempotent re-run, side by side:
#   hoist run                  (forks = hosts, connects afresh)
#   ansible-core, tuned        (pipelining, ControlPersist 300s, forks = min(hosts, ANSIBLE_FORKS))
# Prints wall time, controller CPU and peak controller memory (the whole process tree), the same
# per host, and ratios against hoist. Needs root (the lab).
# Usage: benches/scale.sh [RUNS] [HOST_COUNTS] [ANSIBLE_FORKS]   (defaults: 1 "10 50 240" 50)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-1}
COUNTS=${2:-"10 50 240"}
AFORKS=${3:-50}
. benches/lib.sh
bench_start "$COUNTS"
trap '[ $brought_up = 1 ] && $HOIST lab down >/dev/null 2>&1 || true' EXIT
bench_venv ansible-core
V=$WORK/venv/bin
# A tool that fails the workload (unreachable hosts, failed tasks) is reported as failing it,
# with its output kept, instead of ending the benchmark.
export BENCH_KEEP_GOING=1
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_PIPELINING=1 \
  ANSIBLE_SSH_ARGS='-o ControlMaster=auto -o ControlPersist=300s'
echo "hoist $($HOIST --version | cut -d' ' -f2) | $($V/ansible --version | head -1) | $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB | runs=$RUNS (median)"
printf '%-5s %-6s %-14s %8s %8s %8s %11s %10s %10s %10s  %s\n' hosts phase tool wall_s cpu_s peak_mb \
  "ms_cpu/host" "MB/host" "wall/hoist" "cpu/hoist" "result"
cd benches/playbook
for N in $COUNTS; do
  INV=$WORK/scale-$N.yml
  bench_inventory "$N" "$INV"
  F=$(( N < AFORKS ? N : AFORKS ))
  RESET="$HOIST exec bench -i $INV -f $N -- rm -rf /srv/bench 2>/dev/null"
  H="$HOIST run scale.yml -i $INV -f $N"
  A="$V/ansible-playbook -i $INV -f $F scale.yml"
  for phase in first rerun; do
    setup=""
    if [ $phase = first ]; then setup=$RESET; else $H >/dev/null 2>&1 || true; fi
    h=$(measure "$RUNS" "$H" "$setup")
    [ $phase = rerun ] && { $A >/dev/null 2>&1 || true; }
    a=$(measure "$RUNS" "$A" "$setup")
    hw=$(field "$h" wall_s); hc=$(field "$h" cpu_s)
    for row in "hoist run:$h" "ansible-core -f$F:$a"; do
      name=${row%%:\{*}; js=${row#*:}
      w=$(field "$js" wall_s); c=$(field "$js" cpu_s); m=$(field "$js" peak_mb)
      rc=$(field "$js" rc)
      if [ "$rc" = 0 ]; then res=ok; else res="FAILED (exit $rc, $(grep -c 'UNREACHABLE!\|FAILED!' "$(field "$js" log)") host errors; log $(field "$js" log))"; fi
      printf '%-5s %-6s %-14s %8.2f %8.2f %8.1f %11.1f %10.2f %10.1f %10.1f  %s\n' "$N" "$phase" "$name" \
        "$w" "$c" "$m" "$(ratio "$c*1000" "$N")" "$(ratio "$m" "$N")" "$(ratio "$w" "$hw")" "$(ratio "$c" "$hc")" "$res"
    done
  done
done
