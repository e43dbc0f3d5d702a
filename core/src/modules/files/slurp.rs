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
        let out = ctx
            .remote()?
            .exec(
                &format!(
                    "if [ ! -e {p} ]; then exit 3; elif [ -d {p} ]; then exit 4; elif [ ! -r {p} ]; then exit 5; fi; cat -- {p}"
                ),
                None,
            )
            .await?;
        match out.status {
            Some(0) => {}
            Some(3) => return fail(format!("File not found: {src}")),
            Some(4) => return fail(format!("Source is a directory and must be a file: {src}")),
            Some(5) => return fail(format!("File is not readable: {src}")),
            _ => return fail("Unable to slurp file: {source}"),
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
