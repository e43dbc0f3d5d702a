# hoist's helper for running Ansible's own modules (the fallback): it runs on the controller
# under a Python that has ansible-core installed, and answers one JSON request per line on
# stdin with one JSON line on stdout. It only finds modules and builds their payloads with
# ansible-core's own module_common (AnsiballZ); hoist ships and runs them on the host.
import base64
import json
import os
import sys
import traceback


def setup():
    # Diagnostics go to stderr: stdout carries the answers only.
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    from ansible import constants as C  # noqa: F401  (loads the configuration)
    from ansible.plugins.loader import init_plugin_loader, module_loader, action_loader
    from ansible.executor import module_common
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.release import __version__

    init_plugin_loader()
    return real_stdout, dict(
        module_loader=module_loader,
        action_loader=action_loader,
        module_common=module_common,
        templar=Templar(loader=DataLoader()),
        version=__version__,
        added=set(),
    )


def find(env, req):
    for d in req.get("dirs", []):
        if d not in env["added"] and os.path.isdir(d):
            env["module_loader"].add_directory(d)
            env["added"].add(d)
    name = req["name"]
    ctx = env["module_loader"].find_plugin_with_context(name, collection_list=req.get("collections") or None)
    if not ctx.resolved:
        return {"found": False, "reason": ctx.exit_reason or ""}
    fqcn = ctx.resolved_fqcn or name
    short = fqcn.rsplit(".", 1)[-1]
    action = None
    for candidate in (fqcn, name):
        actx = env["action_loader"].find_plugin_with_context(candidate, collection_list=req.get("collections") or None)
        if actx.resolved:
            action = actx.resolved_fqcn or candidate
            break
    return {
        "found": True,
        "path": ctx.plugin_resolved_path,
        "fqcn": fqcn,
        "short": short,
        "action": action,
    }


def list_modules(env, req):
    # Every module ansible-core can find: its own and the installed collections'.
    from ansible.plugins.list import list_plugins
    found = list_plugins("module")
    def text(p):
        p = p[0] if isinstance(p, tuple) else p
        return p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p)

    modules = [{"name": name, "path": text(path)} for name, path in found.items()]
    return {"modules": sorted(modules, key=lambda m: m["name"])}


def build(env, req):
    args = dict(req.get("args") or {})
    name = req["name"]
    interpreter = req.get("interpreter") or "/usr/bin/python3"
    task_vars = {"ansible_python_interpreter": interpreter}
    built = env["module_common"].modify_module(
        module_name=name,
        module_path=req["path"],
        module_args=args,
        templar=env["templar"],
        task_vars=task_vars,
    )
    out = {
        "style": built.module_style,
        "shebang": built.shebang,
        "payload": base64.b64encode(built.b_module_data).decode("ascii"),
    }
    return out


def main():
    try:
        out, env = setup()
    except Exception as e:  # ansible-core missing or broken: say so once and stop
        sys.__stdout__.write(json.dumps({"fatal": "%s: %s" % (type(e).__name__, e)}) + "\n")
        sys.__stdout__.flush()
        return 1
    out.write(json.dumps({"ready": True, "version": env["version"]}) + "\n")
    out.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "find":
                answer = find(env, req)
            elif op == "build":
                answer = build(env, req)
            elif op == "list":
                answer = list_modules(env, req)
            else:
                answer = {"error": "unknown request %r" % op}
        except Exception as e:
            answer = {"error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
