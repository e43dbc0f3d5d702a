#!/usr/bin/env python3
"""Evaluates tests/template-conformance/cases.yml with ansible-core's own templating and prints
one JSON object per case: {"value": ...} or {"error": "..."}. hoist's side of the comparison is
core/tests/template_conformance.rs; run with the Python that has ansible-core installed.

Usage: ansible_eval.py CASES.yml WORKDIR
"""

import json
import os
import sys

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template


def plain(v):
    """The value as JSON sees it (ansible's tagged/lazy containers made plain)."""
    return json.loads(json.dumps(v, default=lambda o: list(o) if isinstance(o, (set, tuple)) else str(o)))


def main():
    cases = yaml.safe_load(open(sys.argv[1]))
    workdir = sys.argv[2]
    os.chdir(workdir)
    loader = DataLoader()
    loader.set_basedir(workdir)
    out = []
    for case in cases:
        variables = dict(case.get("vars") or {})
        variables["playbook_dir"] = workdir
        variables["ansible_search_path"] = [workdir]
        templar = Templar(loader=loader, variables=variables)
        try:
            if "template" in case:
                opts = case.get("options") or {}
                overrides = dict(trim_blocks=opts.get("trim_blocks", True),
                                 lstrip_blocks=opts.get("lstrip_blocks", False))
                data = templar.copy_with_new_env(searchpath=[workdir], available_variables=variables)
                value = data.template(trust_as_template(case["template"]), escape_backslashes=False, overrides=overrides)
            elif "value" in case:
                value = templar.template(trust_as_template(case["value"]))
            else:
                value = templar.template(trust_as_template("{{ " + case["expr"] + " }}"))
            out.append({"value": plain(value)})
        except Exception as e:  # the comparison only needs to know that it failed
            out.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
