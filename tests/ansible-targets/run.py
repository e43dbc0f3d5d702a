#!/usr/bin/env python3
"""ansible-core's own integration targets, run under ansible-core and under hoist on lab hosts.

Fetches the ansible-core sdist from PyPI (pinned version and sha256, cached, never copied into
the repository), runs each selected target the way `ansible-test integration` runs it (a
generated play on `testhost`, the target as a role, roles path = the targets directory,
`output_dir`, force_handlers; `runme.sh` targets with hoist standing in for ansible-playbook)
on two lab hosts -- one per tool, so one tool's leftovers cannot help or hurt the other -- and
writes a table: target, ansible-core's result, hoist's result, hoist's first error.

    python3 tests/ansible-targets/run.py --inventory target/lab-test.yml [--subset ci]
        [--only a,b] [--write-doc docs/conformance.md] [--hoist target/debug/hoist]

Exit status: 0 when every target's results match the expectations in targets.txt, 1 when one
does not (a regression, or a target that now passes and should be marked so), 2 on set-up errors.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

VERSION = "2.19.14"
SHA256 = "1e7612788eaa6b3c87a3670ce86c64b830eba0ae2b3fcb25a772f276704163b4"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("HOIST_TARGETS_CACHE", "/var/tmp/hoist-targets")
TARGET_TIMEOUT = int(os.environ.get("HOIST_TARGET_TIMEOUT", "600"))


def fetch():
    """The extracted sdist's targets directory, downloaded and checked once."""
    tgz = os.path.join(CACHE, f"ansible_core-{VERSION}.tar.gz")
    tree = os.path.join(CACHE, f"ansible_core-{VERSION}")
    os.makedirs(CACHE, exist_ok=True)
    if not os.path.exists(tgz):
        # The simple index (PEP 503): served by PyPI and by every mirror, unlike the JSON API.
        index = urllib.request.urlopen("https://pypi.org/simple/ansible-core/", timeout=60).read().decode()
        sdist = f"ansible_core-{VERSION}.tar.gz"
        found = re.search(r'href="([^"#]*/' + re.escape(sdist) + r')[#"]', index)
        if not found:
            sys.exit(f"{sdist} is not in PyPI's index of ansible-core")
        url = found.group(1)
        with urllib.request.urlopen(url, timeout=300) as r, open(tgz + ".part", "wb") as f:
            shutil.copyfileobj(r, f)
        os.rename(tgz + ".part", tgz)
    digest = hashlib.sha256(open(tgz, "rb").read()).hexdigest()
    if digest != SHA256:
        sys.exit(f"{tgz}: sha256 {digest}, expected {SHA256} (pinned); remove it to fetch again")
    if not os.path.isdir(tree):
        with tarfile.open(tgz) as t:
            t.extractall(CACHE, filter="data")
    return os.path.join(tree, "test", "integration", "targets")


def selection(subset, only):
    """(name, expected hoist result, reason) from targets.txt, in file order."""
    rows = []
    for n, line in enumerate(open(os.path.join(HERE, "targets.txt")), 1):
        text, _, comment = line.partition("#")
        words = text.split()
        if not words:
            continue
        if len(words) < 2 or words[1] not in ("pass", "fail", "skip"):
            sys.exit(f"targets.txt:{n}: expected `NAME pass|fail|skip [ci]  # reason`, found {line.strip()!r}")
        name, expect, tags = words[0], words[1], words[2:]
        if only and name not in only:
            continue
        if subset == "ci" and "ci" not in tags:
            continue
        rows.append((name, expect, comment.strip()))
    return rows


def lab_hosts(inventory, wanted):
    """Two lab hosts' connection variables from `hoist lab up`'s inventory: `wanted` names
    them (ansible-core's, hoist's), else the first two."""
    import yaml

    inv = yaml.safe_load(open(inventory))
    allvars = inv["all"].get("vars", {})
    hosts = inv["all"]["children"]["lab"]["hosts"]
    names = sorted(hosts, key=lambda h: int(re.sub(r"\D", "", h) or 0))
    if wanted:
        missing = [w for w in wanted if w not in hosts]
        if missing or len(wanted) != 2:
            sys.exit(f"{inventory}: --hosts needs two of its hosts, got {wanted}")
        names = wanted
    if len(names) < 2:
        sys.exit(f"{inventory}: the runner needs two lab hosts, found {len(names)}")
    return [dict(allvars, **hosts[n]) for n in names[:2]]


def ssh(host, cmd):
    key = host["ansible_ssh_private_key_file"]
    common = host.get("ansible_ssh_common_args", "").split()
    return subprocess.run(["ssh", "-i", key, *common, "-o", "BatchMode=yes", f"root@{host['ansible_host']}", cmd],
                          capture_output=True, text=True, timeout=120)


def inventory_text(host):
    pairs = " ".join(f"{k}={json.dumps(v) if ' ' in str(v) else v}" for k, v in host.items())
    return f"[testgroup]\ntesthost {pairs}\n"


def aliases(targets, name):
    try:
        return open(os.path.join(targets, name, "aliases")).read().split()
    except FileNotFoundError:
        return []


def first_error(text):
    """The first line that says why a run failed."""
    for pat in (r"^\s*× .*", r"^(fatal|failed): .*", r"^ERROR!.*", r"^error.*", r".*\bFAILED\b.*", r"^.*(panicked|Error:).*"):
        m = re.search(pat, text, re.M)
        if m:
            return m.group(0).strip()[:300]
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:300] if lines else ""


def run_target(tool, exe, targets, name, host, work):
    """Runs one target with one tool in a pristine copy; returns (passed, first error, seconds)."""
    integ = os.path.join(work, tool, "integration")
    shutil.rmtree(os.path.join(work, tool), ignore_errors=True)
    # The target itself is a pristine copy (targets write into their own files/); the others
    # (setup_* helpers, dependencies) are linked, which is much quicker than copying them all.
    tdir = os.path.join(integ, "targets")
    os.makedirs(tdir)
    for t in os.listdir(targets):
        if t == name:
            shutil.copytree(os.path.join(targets, t), os.path.join(tdir, t), symlinks=True)
        else:
            os.symlink(os.path.join(targets, t), os.path.join(tdir, t))
    out_dir = os.path.join(CACHE, "output", tool, name)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    ssh(host, f"rm -rf {out_dir} && mkdir -p {out_dir}")
    inv = os.path.join(integ, "inventory")
    open(inv, "w").write(inventory_text(host))
    env = dict(os.environ, ANSIBLE_ROLES_PATH=tdir, HOIST_ROLES_PATH=tdir, ANSIBLE_HOST_KEY_CHECKING="False",
               OUTPUT_DIR=out_dir, INVENTORY_PATH=inv, ANSIBLE_FORCE_HANDLERS="true", ANSIBLE_NOCOLOR="1",
               NO_COLOR="1", ANSIBLE_PLAYBOOK_DIR=integ, ANSIBLE_TEST_ANSIBLE_VERSION=VERSION)
    al = aliases(targets, name)
    started = time.monotonic()
    if os.path.exists(os.path.join(tdir, name, "runme.sh")):
        # The script runs ansible-playbook itself: a directory of stand-ins first on PATH.
        shim = os.path.join(work, tool, "bin")
        os.makedirs(shim, exist_ok=True)
        # hoist linked as `ansible-playbook` (and `ansible`) takes that command's arguments.
        os.symlink(os.path.abspath(exe), os.path.join(shim, "ansible-playbook"))
        if tool == "hoist":
            os.symlink(os.path.abspath(exe), os.path.join(shim, "ansible"))
        elif os.path.exists(os.path.join(os.path.dirname(exe), "ansible")):
            os.symlink(os.path.join(os.path.dirname(os.path.abspath(exe)), "ansible"), os.path.join(shim, "ansible"))
        env["PATH"] = shim + os.pathsep + env["PATH"]
        cmd = ["bash", "./runme.sh", "-i", inv]
        cwd = os.path.join(tdir, name)
    else:
        gather = not ("gather_facts/no/" in al)
        play = [{"hosts": "testhost", "gather_facts": gather, "force_handlers": True,
                 "vars": {"output_dir": out_dir}, "roles": [name]}]
        book = os.path.join(integ, f"{name}-play.yml")
        open(book, "w").write(json.dumps(play, indent=4, sort_keys=True))
        cmd = [exe, "run", book, "-i", inv] if tool == "hoist" else [exe, book, "-i", inv]
        cwd = integ
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TARGET_TIMEOUT)
        out, code = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        out += f"\ntimed out after {TARGET_TIMEOUT} s"
        code = -1
    secs = time.monotonic() - started
    logdir = os.path.join(ROOT, "target", "conformance", tool)
    os.makedirs(logdir, exist_ok=True)
    open(os.path.join(logdir, f"{name}.log"), "w").write(out)
    shutil.rmtree(os.path.join(work, tool), ignore_errors=True)
    return code == 0, ("" if code == 0 else first_error(out)), secs


def table(results):
    lines = ["| target | ansible-core | hoist | expected | hoist's first error or the reason |", "|---|---|---|---|---|"]
    for r in results:
        why = r["error"] or r["reason"]
        why = why.replace("|", "\\|")
        lines.append(f"| {r['target']} | {r['ansible']} | {r['hoist']} | {r['expect']} | {why} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inventory", required=True, help="the lab inventory (`hoist lab up -i ...`)")
    ap.add_argument("--hoist", default=os.path.join(ROOT, "target", "debug", "hoist"))
    ap.add_argument("--ansible-playbook", default=os.environ.get("HOIST_ANSIBLE_PLAYBOOK", "ansible-playbook"))
    ap.add_argument("--hosts", default="", help="two lab hosts: ansible-core's,hoist's (default: the first two)")
    ap.add_argument("--subset", choices=["ci", "all"], default="all")
    ap.add_argument("--only", default="", help="comma-separated target names")
    ap.add_argument("--hoist-only", action="store_true", help="do not run ansible-core (quicker while fixing)")
    ap.add_argument("--write-doc", help="write the table and the headline into this Markdown file")
    ap.add_argument("--write-expectations", action="store_true",
                    help="rewrite targets.txt's expected results from this run (the ci marks are kept)")
    ap.add_argument("--from-json", help="reuse the results of an earlier run (its target/conformance.json)")
    a = ap.parse_args()
    if a.from_json:
        results = json.load(open(a.from_json))
        return report(results, a)
    # hoist runs Ansible's own modules (those it has no native version of) with the ansible-core
    # under test.
    py = os.path.join(os.path.dirname(shutil.which(a.ansible_playbook) or a.ansible_playbook), "python")
    if os.path.exists(py):
        os.environ.setdefault("HOIST_ANSIBLE_PYTHON", py)
    targets = fetch()
    only = set(filter(None, a.only.split(",")))
    rows = selection(a.subset, only)
    h_ansible, h_hoist = lab_hosts(a.inventory, list(filter(None, a.hosts.split(","))))
    results = []
    with tempfile.TemporaryDirectory(prefix="hoist-targets-") as work:
        for name, expect, reason in rows:
            if expect == "skip":
                results.append(dict(target=name, ansible="-", hoist="-", expect=expect, error="", reason=reason))
                continue
            if a.hoist_only:
                ok_a, secs_a = None, 0.0
            else:
                ok_a, _, secs_a = run_target("ansible", a.ansible_playbook, targets, name, h_ansible, work)
            ok_h, err, secs_h = run_target("hoist", a.hoist, targets, name, h_hoist, work)
            res = dict(target=name, ansible={True: "pass", False: "fail", None: "-"}[ok_a],
                       hoist="pass" if ok_h else "fail", expect=expect, error=err, reason=reason,
                       secs_ansible=round(secs_a, 1), secs_hoist=round(secs_h, 1))
            results.append(res)
            print(f"[targets] {name}: ansible-core {res['ansible']} ({secs_a:.1f}s), hoist {res['hoist']} ({secs_h:.1f}s)"
                  + (f" -- {err}" if err else ""), flush=True)
    return report(results, a)


def write_expectations(results):
    """targets.txt with each target's result from this run as its expectation (ci marks kept;
    a target ansible-core fails here keeps that said in its reason)."""
    by_name = {r["target"]: r for r in results}
    out = []
    for line in open(os.path.join(HERE, "targets.txt")):
        text, _, comment = line.partition("#")
        words = text.split()
        if not words or words[0] not in by_name or words[1] == "skip":
            out.append(line)
            continue
        r = by_name[words[0]]
        tags = [w for w in words[2:] if w == "ci" and r["hoist"] == "pass" and r["ansible"] != "fail"]
        why = ""
        if r["hoist"] != "pass":
            why = r["error"].replace("\n", " ").replace("#", "")[:160]
            if r["ansible"] == "fail":
                why = "ansible-core fails it too under this runner; hoist: " + why
        line = " ".join([words[0], r["hoist"]] + tags)
        out.append(line + (f"  # {why}" if why else "") + "\n")
    open(os.path.join(HERE, "targets.txt"), "w").write("".join(out))


def report(results, a):
    """Prints the headline, writes the JSON, the document and the expectations on request;
    the exit code says whether hoist's results differ from targets.txt."""
    if a.write_expectations:
        write_expectations(results)
    ran = [r for r in results if r["expect"] != "skip"]
    base = [r for r in ran if r["ansible"] == "pass"]
    both = [r for r in base if r["hoist"] == "pass"]
    pct = 100.0 * len(both) / len(base) if base else 0.0
    headline = (f"hoist passes {len(both)} of the {len(base)} selected targets that ansible-core {VERSION} passes "
                f"under this runner ({pct:.0f}%); {len(ran)} targets ran, {len(results) - len(ran)} are listed as skipped.")
    print("[targets] " + headline)
    os.makedirs(os.path.join(ROOT, "target"), exist_ok=True)
    json.dump(results, open(os.path.join(ROOT, "target", "conformance.json"), "w"), indent=1)
    if a.write_doc:
        doc = open(a.write_doc).read() if os.path.exists(a.write_doc) else ""
        head, _, _ = doc.partition("<!-- table -->")
        open(a.write_doc, "w").write(head + "<!-- table -->\n" + headline + "\n\n" + table(results) + "\n")
    bad = [r for r in ran if r["hoist"] != r["expect"] and r["ansible"] != "fail"]
    for r in bad:
        print(f"[targets] {r['target']}: hoist {r['hoist']}, targets.txt expects {r['expect']}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
