//! Tries, on request, every way out of the sandbox a plugin might try. Attempts the sandbox
//! answers with an error return `refused: true` and the error; attempts that must be stopped
//! (memory, endless loop, deep recursion, panic) never return.

use hoist_plugin_sdk::module::{ArgKind, Call, Module, ModuleInfo, Outcome, target};

struct Probe;

fn outcome(r: Result<String, String>) -> Outcome {
    match r {
        Ok(leak) => Outcome::ok().with("refused", false).with("leaked", leak),
        Err(e) => Outcome::ok().with("refused", true).with("error", e),
    }
}

#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let buf = [n; 64];
    recurse(buf[(n % 64) as usize] + 1) + buf[3]
}

impl Module for Probe {
    fn describe() -> ModuleInfo {
        ModuleInfo::new("sandbox escape attempts").required("attempt", ArgKind::Str, "what to try")
    }

    fn run(call: Call) -> Result<Outcome, String> {
        let attempt = call.required_str("attempt")?;
        let r = match attempt.as_str() {
            "controller_file" => std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string()),
            "controller_dir" => std::fs::read_dir("/")
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| e.path().display().to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .map_err(|e| e.to_string()),
            "socket" => std::net::TcpStream::connect("127.0.0.1:22")
                .map(|_| "connected".to_string())
                .map_err(|e| e.to_string()),
            "env" => {
                let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                if vars.is_empty() {
                    Err("no environment".into())
                } else {
                    Ok(vars.join(","))
                }
            }
            "exec_ungranted" => target::run(&["id"], None).map(|o| o.stdout_str()),
            "exec_granted" => target::run(&["true"], None).map(|o| format!("status {}", o.status)),
            "read_ungranted" => {
                target::read_file("/etc/shadow").map(|b| format!("{:?}", b.map(|b| b.len())))
            }
            "read_traversal" => target::read_file("/tmp/probe/../../etc/shadow")
                .map(|b| format!("{:?}", b.map(|b| b.len()))),
            "read_symlink" => {
                target::read_file("/tmp/probe/link").map(|b| format!("{:?}", b.map(|b| b.len())))
            }
            "read_granted" => target::read_file("/tmp/probe/ok.txt")
                .map(|b| String::from_utf8_lossy(&b.unwrap_or_default()).into_owned()),
            "write_ungranted" => {
                target::write_file("/etc/probe-owned", b"x", None).map(|_| "written".into())
            }
            "write_granted" => {
                target::write_file("/tmp/probe/out.txt", b"from the plugin\n", Some(0o640))
                    .map(|_| "written".into())
            }
            "http_ungranted" => {
                hoist_plugin_sdk::http::get("http://127.0.0.1:9/").map(|r| r.text())
            }
            "memory" => {
                let mut v: Vec<Vec<u8>> = Vec::new();
                for _ in 0..64 {
                    v.push(vec![7u8; 8 << 20]);
                }
                Ok(format!(
                    "allocated {} MiB",
                    v.iter().map(Vec::len).sum::<usize>() >> 20
                ))
            }
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    if x == 42 {
                        break Ok("impossible".into());
                    }
                }
            }
            "stack" => Ok(recurse(1).to_string()),
            "panic" => panic!("probe panic: deliberate"),
            other => return Err(format!("unknown attempt `{other}`")),
        };
        Ok(outcome(r))
    }
}

hoist_plugin_sdk::register_module!(Probe);
