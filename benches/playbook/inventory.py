"""pyinfra inventory for the benchmark: the first BENCH_N lab hosts, strict host keys."""
import os

_N = int(os.environ.get("BENCH_N", "10"))
_RUN = "/var/tmp/hoist-lab/run"
bench = [
    (f"lab{i}", {
        "ssh_hostname": f"10.77.0.{10 + i}",
        "ssh_user": "root",
        "ssh_key": f"{_RUN}/id_ed25519",
        "ssh_known_hosts_file": f"{_RUN}/known_hosts",
        "ssh_strict_host_key_checking": "yes",
    })
    for i in range(1, _N + 1)
]
