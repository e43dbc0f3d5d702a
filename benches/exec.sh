#!/bin/bash
# Benchmark (not a test): one trivial command on 10 and 50 lab hosts, side by side in one run:
#   hoist exec            (fresh process: connects, authenticates, runs, disconnects)
#   hoist exec --persist  (connections kept warm by hoist's multiplexer, like ControlPersist)
#   ansible -m command    (ansible-core from PyPI, forks = hosts, its default ControlPersist warm)
#   ssh + ControlMaster   (OpenSSH with master connections already open: the floor)
# Prints median wall time and controller CPU, and ratios. Needs root (the lab).
# Usage: benches/exec.sh [RUNS]   (brings up a 50-host lab unless one with >= 50 hosts is up)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
ROOT=$PWD
. benches/lib.sh
bench_start 50
INV=$(cat $RUN/inventory-path)
cleanup() {
  $HOIST mux stop >/dev/null 2>&1 || true
  for s in "$WORK"/cm-*; do [ -S "$s" ] && ssh -S "$s" -O exit x 2>/dev/null || true; done
  [ $brought_up = 1 ] && $HOIST lab down >/dev/null 2>&1 || true
}
trap cleanup EXIT
bench_venv ansible-core
ANSIBLE=$WORK/venv/bin/ansible
KEY=$RUN/id_ed25519
KH=$RUN/known_hosts
SSHO="-i $KEY -o UserKnownHostsFile=$KH -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR"
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_STDOUT_CALLBACK=minimal ANSIBLE_LOAD_CALLBACK_PLUGINS=0
measure() { python3 benches/measure.py "$RUNS" "$1"; }
echo "hoist $($HOIST --version | cut -d' ' -f2) | $($ANSIBLE --version | head -1) | $(ssh -V 2>&1) | runs=$RUNS (median)"
printf '%-6s %-28s %9s %9s %10s %10s\n' hosts tool wall_s cpu_s "wall/hoist" "cpu/hoist"
for N in 10 50; do
  PAT="lab[0:$((N-1))]"
  IPS=$(seq 11 $((10+N)) | sed 's/^/10.77.0./')
  for ip in $IPS; do
    [ -S "$WORK/cm-$ip" ] || ssh $SSHO -M -S "$WORK/cm-$ip" -fN root@$ip
  done
  h=$(measure "$HOIST exec '$PAT' -i $INV -f $N -- true")
  p=$(measure "$HOIST exec '$PAT' -i $INV -f $N --persist 120 -- true")
  a=$(measure "$ANSIBLE '$PAT' -i $INV -f $N -m command -a true")
  s=$(measure "echo '$IPS' | xargs -P $N -I{} ssh $SSHO -S $WORK/cm-{} root@{} true")
  hw=$(field "$h" wall_s); hc=$(field "$h" cpu_s)
  for row in "hoist exec:$h" "hoist exec --persist:$p" "ansible-core -m command:$a" "ssh ControlMaster (floor):$s"; do
    name=${row%%:\{*}; js=${row#*:}
    w=$(field "$js" wall_s); c=$(field "$js" cpu_s)
    printf '%-6s %-28s %9.3f %9.3f %10.2f %10.2f\n' "$N" "$name" "$w" "$c" \
      "$(python3 -c "print($w/$hw)")" "$(python3 -c "print($c/max($hc,1e-9))")"
  done
done
