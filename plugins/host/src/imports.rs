//! hoist's side of the contract's imported interfaces (`log`, `target`, `controller`,
//! `http`), shared by every plugin kind. Each call is checked against the plugin's grants.

wasmtime::component::bindgen!({
    path: "../wit",
    interfaces: "
        import hoist:plugin/log@0.1.0;
        import hoist:plugin/target@0.1.0;
        import hoist:plugin/controller@0.1.0;
        import hoist:plugin/http@0.1.0;
    ",
    imports: { default: async },
});

use crate::grants::normalize;
use crate::sandbox::{HostState, LogLine};
use hoist::plugin::types::{CommandOutput, HttpRequest, HttpResponse, Level};
use hoist_core::ssh::WriteOpts;
use hoist_core::ssh::shell::quote;
use std::path::Path;

impl hoist::plugin::types::Host for HostState {}

impl hoist::plugin::log::Host for HostState {
    async fn log(&mut self, level: Level, message: String) {
        if self.logs.len() >= 1000 {
            return;
        }
        let level = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        let message: String = message.chars().take(4096).collect();
        self.logs.push(LogLine { level, message });
    }
}

/// An absolute, normalized target path, or why not.
fn target_path(path: &str) -> Result<std::path::PathBuf, String> {
    normalize(Path::new(path)).ok_or_else(|| format!("`{path}`: target paths must be absolute"))
}

impl hoist::plugin::target::Host for HostState {
    async fn run(
        &mut self,
        argv: Vec<String>,
        stdin: Option<Vec<u8>>,
    ) -> Result<CommandOutput, String> {
        let Some(program) = argv.first() else {
            return Err("run: empty argv".into());
        };
        self.grants.exec(program)?;
        let remote = self
            .target
            .as_ref()
            .ok_or("this plugin kind has no target host")?;
        let script = argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ");
        let out = remote
            .exec(&script, stdin.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        Ok(CommandOutput {
            status: out.status.map_or(-1, |s| s as i32),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    async fn read_file(&mut self, path: String) -> Result<Option<Vec<u8>>, String> {
        let p = target_path(&path)?;
        self.grants.read(&p, "target")?;
        let remote = self
            .target
            .as_ref()
            .ok_or("this plugin kind has no target host")?;
        // Resolve symlinks on the target and check the real path too, in the same round trip.
        let q = quote(&p.display().to_string());
        let script = format!(
            "r=$(readlink -f -- {q}) || r={q}; printf '%s\\n' \"$r\"; \
             if [ -f \"$r\" ]; then printf 'F\\n'; cat -- \"$r\"; \
             elif [ -e \"$r\" ]; then echo 'not a regular file' >&2; exit 2; else printf 'N\\n'; fi"
        );
        let out = remote
            .exec(&script, None)
            .await
            .map_err(|e| e.to_string())?;
        if !out.success() {
            return Err(format!("cannot read {path}: {}", out.stderr_str().trim()));
        }
        let body = out.stdout;
        let mut parts = body.splitn(3, |b| *b == b'\n');
        let real = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        let real = target_path(&real)?;
        self.grants.read(&real, "target")?;
        match parts.next() {
            Some(b"F") => Ok(Some(parts.next().unwrap_or_default().to_vec())),
            _ => Ok(None),
        }
    }

    async fn write_file(
        &mut self,
        path: String,
        contents: Vec<u8>,
        mode: Option<u32>,
    ) -> Result<(), String> {
        let p = target_path(&path)?;
        self.grants.write(&p, "target")?;
        let remote = self
            .target
            .as_ref()
            .ok_or("this plugin kind has no target host")?;
        let q = quote(&p.display().to_string());
        let out = remote
            .exec(&format!("readlink -f -- {q} || printf '%s\\n' {q}"), None)
            .await
            .map_err(|e| e.to_string())?;
        let real = target_path(out.stdout_str().trim())?;
        self.grants.write(&real, "target")?;
        let opts = WriteOpts {
            mode: mode.map(|m| format!("{m:04o}")),
            ..WriteOpts::default()
        };
        remote
            .write(&p.display().to_string(), &contents, &opts)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

impl hoist::plugin::controller::Host for HostState {
    async fn read_file(&mut self, path: String) -> Result<Vec<u8>, String> {
        let p = self.grants.controller_path(&path)?;
        self.grants.read(&p, "controller")?;
        let real = std::fs::canonicalize(&p).map_err(|e| format!("cannot read {path}: {e}"))?;
        self.grants.read(&real, "controller")?;
        std::fs::read(&real).map_err(|e| format!("cannot read {path}: {e}"))
    }

    async fn write_file(&mut self, path: String, contents: Vec<u8>) -> Result<(), String> {
        let p = self.grants.controller_path(&path)?;
        self.grants.write(&p, "controller")?;
        let (Some(dir), Some(name)) = (p.parent(), p.file_name()) else {
            return Err(format!("cannot write {path}: not a file path"));
        };
        let real_dir =
            std::fs::canonicalize(dir).map_err(|e| format!("cannot write {path}: {e}"))?;
        let real = real_dir.join(name);
        self.grants.write(&real, "controller")?;
        crate::files::write_atomic(&real, &contents)
            .map_err(|e| format!("cannot write {path}: {e}"))
    }

    async fn env(&mut self, name: String) -> Option<String> {
        if self.grants.env(&name) {
            std::env::var(&name).ok()
        } else {
            None
        }
    }
}

impl hoist::plugin::http::Host for HostState {
    async fn request(&mut self, req: HttpRequest) -> Result<HttpResponse, String> {
        let grants = self.grants.clone();
        let run = move || crate::http::send(&grants, req);
        match tokio::runtime::Handle::try_current() {
            Ok(h) => h
                .spawn_blocking(run)
                .await
                .map_err(|e| format!("http: {e}"))?,
            Err(_) => run(),
        }
    }
}
