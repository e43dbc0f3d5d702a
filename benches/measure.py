"""Runs a command several times and prints its median wall time, controller CPU (user+sys of the
command and its children) and peak RSS, as JSON. Used by exec.sh; measurement only."""
import json, resource, statistics, subprocess, sys, time

def once(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {cmd}\n{proc.stderr.decode(errors='replace')[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss

runs = int(sys.argv[1]); cmd = sys.argv[2]
once(cmd)  # warm-up: caches, ControlPersist masters, page cache
samples = [once(cmd) for _ in range(runs)]
print(json.dumps({
    "wall_s": statistics.median(s[0] for s in samples),
    "cpu_s": statistics.median(s[1] for s in samples),
    "maxrss_kb": max(s[2] for s in samples),
}))
