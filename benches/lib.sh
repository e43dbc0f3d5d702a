# Shared by the benchmarks (sourced, not run): the release build, the lab, the PyPI venv, the
# per-N inventory and the measurement helpers. Needs ROOT (the repository) set.
HOIST=$ROOT/target/release/hoist
RUN=/var/tmp/hoist-lab/run
WORK=/var/tmp/hoist-bench
mkdir -p "$WORK"

# Builds hoist in release mode.
bench_build() { (cd "$ROOT" && cargo build --release --bin hoist); }

# bench_start "N1 N2 ...": the release build and a lab as large as the largest count.
bench_start() {
  bench_build
  bench_lab "$(echo $1 | tr ' ' '\n' | sort -n | tail -1)"
}

# Makes sure a lab with at least $1 hosts is up; sets brought_up=1 when this run started it.
bench_lab() {
  brought_up=0
  if [ "$($HOIST lab status | grep -c running || true)" -lt "$1" ]; then
    $HOIST lab down >/dev/null 2>&1 || true
    $HOIST lab up --hosts "$1" --inventory "$WORK/lab.yml" >/dev/null
    brought_up=1
  fi
}

# Makes sure $WORK/venv holds the PyPI packages named.
bench_venv() {
  local missing=0 p
  for p in "$@"; do
    "$WORK/venv/bin/pip" show -q "$p" >/dev/null 2>&1 || missing=1
  done
  if [ $missing = 1 ]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q "$@"
  fi
}

# Writes an Ansible inventory of lab1..lab$1 in group `bench` to $2.
bench_inventory() {
  {
    echo "all:"
    echo "  vars:"
    echo "    ansible_user: root"
    echo "    ansible_python_interpreter: /usr/bin/python3"
    echo "    ansible_ssh_private_key_file: $RUN/id_ed25519"
    echo "    ansible_ssh_common_args: \"-o UserKnownHostsFile=$RUN/known_hosts -o StrictHostKeyChecking=yes\""
    echo "  children:"
    echo "    bench:"
    echo "      hosts:"
    for i in $(seq 1 "$1"); do echo "        lab$i: {ansible_host: 10.77.0.$((10 + i))}"; done
  } > "$2"
}

# measure RUNS CMD [SETUP]: JSON {wall_s, cpu_s, peak_mb} (median of RUNS, whole process tree).
measure() { python3 "$ROOT/benches/measure_tree.py" "$1" "$2" "${3:-}"; }
# field JSON NAME
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }
# ratio A B: A/B
ratio() { python3 -c "print($1/max($2,1e-9))"; }
