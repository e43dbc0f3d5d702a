//! `async_status`: where a background job started by an `async` task with `poll: 0` stands
//! (`finished: false`, or `finished: true` with the command's own result), or, with `mode: cleanup`,
//! removing its files. Used as in Ansible: `until: job.finished`, with `retries` and `delay`.

use crate::modules::async_job::{self, State};
use crate::modules::types::Text;
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome, fail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsyncStatus {
    jid: Text,
    #[serde(default)]
    mode: Option<Text>,
}

impl Module for AsyncStatus {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let jid = self.jid.0;
        if !async_job::valid_id(&jid) {
            return fail(format!(
                "`{jid}` is not a job id (an async task's `ansible_job_id`)"
            ));
        }
        let remote = ctx.remote()?;
        match self.mode.as_ref().map(|m| m.0.as_str()).unwrap_or("status") {
            "status" => {}
            "cleanup" => {
                let out = remote.exec(&async_job::cleanup_script(&jid), None).await?;
                return Ok(Outcome::ok()
                    .with("ansible_job_id", jid)
                    .with("erased", out.stdout_str()));
            }
            other => {
                return Err(ModuleError::Args(format!(
                    "argument `mode`: `{other}` is not one of status, cleanup"
                )));
            }
        }
        match async_job::state(remote, &jid).await? {
            State::Missing => {
                let mut o = Outcome::ok()
                    .msg("could not find job")
                    .with("ansible_job_id", jid)
                    .with("started", true)
                    .with("finished", true);
                o.failed = true;
                Ok(o)
            }
            State::Running => Ok(Outcome::ok()
                .with("ansible_job_id", jid)
                .with("started", true)
                .with("finished", false)),
            State::Finished { rc, started, ended } => {
                async_job::finished(remote, &jid, rc, started, ended, true).await
            }
        }
    }
}
