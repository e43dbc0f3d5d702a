//! `setup`/`gather_facts` (facts in one round trip, under Ansible's names) and `ping`.

use crate::inventory::Vars;
use crate::modules::types::List;
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome};
use serde::Deserialize;
use serde_json::Value as Json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    #[serde(default)]
    gather_subset: Option<List>,
    #[serde(default)]
    filter: Option<List>,
    gather_timeout: Option<Json>,
    fact_path: Option<String>,
}

impl Module for Setup {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.gather_subset, &self.gather_timeout);
        let out = ctx
            .remote()?
            .check(&crate::facts::script_with(self.fact_path.as_deref()), None)
            .await?;
        let facts = crate::facts::parse(&out.stdout_str()).map_err(ModuleError::Failed)?;
        let mut all = facts.ansible_facts();
        if let Some(filter) = self.filter.filter(|f| !f.0.is_empty()) {
            all = all
                .into_iter()
                .filter(|(k, _)| {
                    filter.0.iter().any(|p| {
                        let p = p.strip_prefix("ansible_").unwrap_or(p);
                        crate::glob::glob(p, k)
                    })
                })
                .collect::<Vars>();
        }
        // The registered result names facts as the setup module returns them
        // (`ansible_distribution`); the host's `ansible_facts` drops the prefix.
        let registered: serde_json::Map<String, Json> = all
            .iter()
            .map(|(k, v)| (format!("ansible_{k}"), v.clone()))
            .collect();
        let mut o = Outcome::ok().with("ansible_facts", Json::Object(registered));
        o.facts = Some(all);
        Ok(o)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ping {
    data: Option<String>,
}

impl Module for Ping {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let data = self.data.unwrap_or_else(|| "pong".into());
        if data == "crash" {
            return crate::modules::fail("Task failed. Module failed. boom");
        }
        ctx.remote()?.check("true", None).await?;
        Ok(Outcome::ok().with("ping", data))
    }
}
