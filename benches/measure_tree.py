"""Runs a command several times: median wall time, controller CPU (user+sys of the command and
every child it reaped) and peak memory of the whole process tree (RSS summed over the command
and its descendants, sampled every 10 ms), as JSON. Measurement only, for benches/*.sh.
A failing command ends the measurement, unless BENCH_KEEP_GOING=1: then its exit status is
recorded (`rc`, the highest of the samples) and its output kept in `log`, so a tool that fails
the workload is reported as failing it."""
import json, os, resource, statistics, subprocess, sys, tempfile, threading, time

def tree_rss_kb(root):
    children = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(pid))
        except OSError:
            continue
    total, stack = 0, [root]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return total

def once(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = [0]
    done = threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kb(proc.pid))
            time.sleep(0.01)
    t = threading.Thread(target=sample)
    t.start()
    out, _ = proc.communicate(timeout=1200)
    done.set()
    t.join()
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    log = None
    if proc.returncode != 0:
        if os.environ.get("BENCH_KEEP_GOING") != "1":
            sys.exit(f"command failed ({proc.returncode}): {cmd}\n{out.decode(errors='replace')[-3000:]}")
        fd, log = tempfile.mkstemp(prefix="bench-failed-", suffix=".log", dir="/var/tmp/hoist-bench")
        with os.fdopen(fd, "wb") as f:
            f.write(cmd.encode() + b"\n" + out)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak[0], proc.returncode, log

def main():
    runs, cmd = int(sys.argv[1]), sys.argv[2]
    setup = sys.argv[3] if len(sys.argv) > 3 else None
    samples = []
    for _ in range(runs):
        if setup:
            subprocess.run(setup, shell=True, check=True, stdout=subprocess.DEVNULL)
        samples.append(once(cmd))
    print(json.dumps({
        "wall_s": statistics.median(s[0] for s in samples),
        "cpu_s": statistics.median(s[1] for s in samples),
        "peak_mb": max(s[2] for s in samples) / 1024,
        "rc": max(s[3] for s in samples),
        "log": next((s[4] for s in samples if s[4]), None),
    }))

main()
