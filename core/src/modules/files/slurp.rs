//! `slurp`: a file on the host, base64-encoded in the result (`content`, `encoding`,
//! `source`), with ansible-core's messages for a missing, unreadable or directory path. The
//! content is data: it is registered, never templated.

use crate::modules::types::Text;
use crate::modules::{Ctx, ModResult, Module, Outcome, fail};
use crate::ssh::shell::quote_path;
use base64::Engine;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slurp {
    #[serde(alias = "path")]
    src: Text,
}

impl Module for Slurp {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let src = self.src.0;
        let p = quote_path(&src);
        // Read as Python's open() would, and told apart by the error it meets.
        let out = ctx
            .remote()?
            .exec(&format!("LC_ALL=C cat -- {p}"), None)
            .await?;
        if !out.success() {
            let err = out.stderr_str();
            return fail(if err.contains("No such file or directory") {
                format!("File not found: {src}")
            } else if err.contains("Permission denied") {
                format!("File is not readable: {src}")
            } else if err.contains("Is a directory") {
                format!("Source is a directory and must be a file: {src}")
            } else {
                // ansible-core's own message, placeholder included.
                "Unable to slurp file: {source}".to_string()
            });
        }
        Ok(Outcome::ok()
            .with(
                "content",
                base64::engine::general_purpose::STANDARD.encode(&out.stdout),
            )
            .with("source", src)
            .with("encoding", "base64"))
    }
}
