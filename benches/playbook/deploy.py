"""The benchmark playbook written for pyinfra 3 (same 10 tasks and handler as bench.yml)."""
from io import StringIO

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import files, server

ROOT = "/srv/bench"
WORKERS = 4

files.directory(name="directory", path=ROOT, mode="755")
conf = files.put(name="config file", src=StringIO("listen=0.0.0.0\nport=8080\n"), dest=f"{ROOT}/app.conf", mode="644")
files.template(name="template", src="templates/app.ini.j2", dest=f"{ROOT}/app.ini", mode="644",
               inventory_hostname=host.name, workers=WORKERS, root=ROOT)
files.line(name="one line", path=f"{ROOT}/app.env", line="^WORKERS=.*", replace=f"WORKERS={WORKERS}")
server.shell(name="read it back", commands=[f"cat {ROOT}/app.env"])
files.file(name="tighten the mode when configured", path=f"{ROOT}/app.env", mode="640")
for i in range(1, 6):
    files.directory(name="five directories", path=f"{ROOT}/d{i}")
ini = host.get_fact(File, path=f"{ROOT}/app.ini")
server.shell(name="assert", commands=["test -s " + f"{ROOT}/app.ini"])
server.shell(name="final command", commands=["true"])
server.shell(name="reload app", commands=[f"touch {ROOT}/reloaded"], _if=conf.did_change)
