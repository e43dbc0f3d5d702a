//! The operator's ceilings over what a plugin's own `plugin.toml` asks for: memory (in all of
//! its memories together), fuel, wall-clock time and table elements. A manifest may ask for less,
//! never more: `HOIST_PLUGIN_MAX_MEMORY_MB` (default 256), `HOIST_PLUGIN_MAX_FUEL` (10^10),
//! `HOIST_PLUGIN_MAX_TIMEOUT_SECS` (300) and `HOIST_PLUGIN_MAX_TABLE_ELEMENTS` (100,000).

use crate::manifest::Limits;

/// How a refused memory growth reads (matched when the trap is explained).
pub const MEMORY_REACHED: &str = "memory limit reached";
/// How a refused table growth reads.
pub const TABLE_REACHED: &str = "table limit reached";

/// The ceilings in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceilings {
    pub memory_mb: u64,
    pub fuel: u64,
    pub timeout_secs: u64,
    pub table_elements: usize,
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
}

/// The operator's ceilings, from the environment.
pub fn current() -> Ceilings {
    Ceilings {
        memory_mb: env_u64("HOIST_PLUGIN_MAX_MEMORY_MB", 256),
        fuel: env_u64("HOIST_PLUGIN_MAX_FUEL", 10_000_000_000),
        timeout_secs: env_u64("HOIST_PLUGIN_MAX_TIMEOUT_SECS", 300),
        table_elements: env_u64("HOIST_PLUGIN_MAX_TABLE_ELEMENTS", 100_000) as usize,
    }
}

/// What a plugin gets: its own limits, each capped by the ceiling.
pub fn clamp(asked: &Limits, c: &Ceilings) -> Limits {
    Limits {
        memory_mb: asked.memory_mb.min(c.memory_mb),
        fuel: asked.fuel.min(c.fuel),
        timeout_secs: asked.timeout_secs.min(c.timeout_secs),
    }
}

/// A store's resource limiter: the memory budget counts every memory of the store together (a
/// per-memory limit let a component with 8 memories use 8 times its budget), tables are capped
/// in elements, instances, tables and memories in number. Going over traps with a message.
pub struct Budget {
    memory_left: usize,
    table_elements: usize,
}

impl Budget {
    pub fn new(memory_bytes: usize, table_elements: usize) -> Self {
        Budget {
            memory_left: memory_bytes,
            table_elements,
        }
    }
}

impl wasmtime::ResourceLimiter for Budget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let more = desired.saturating_sub(current);
        if more > self.memory_left {
            return Err(wasmtime::Error::msg(format!(
                "{MEMORY_REACHED}: growing by {more} bytes with {} left (limits.memory_mb, all \
                 memories together)",
                self.memory_left
            )));
        }
        self.memory_left -= more;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            return Err(wasmtime::Error::msg(format!(
                "{TABLE_REACHED}: {desired} elements (at most {})",
                self.table_elements
            )));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        16
    }

    fn tables(&self) -> usize {
        32
    }

    fn memories(&self) -> usize {
        8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn manifests_never_get_more_than_the_ceilings() {
        let c = Ceilings {
            memory_mb: 100,
            fuel: 1000,
            timeout_secs: 10,
            table_elements: 5,
        };
        let asked = Limits {
            memory_mb: 4096,
            fuel: u64::MAX,
            timeout_secs: 86_400,
        };
        assert_eq!(
            clamp(&asked, &c),
            Limits {
                memory_mb: 100,
                fuel: 1000,
                timeout_secs: 10
            }
        );
        let small = Limits {
            memory_mb: 8,
            fuel: 10,
            timeout_secs: 1,
        };
        assert_eq!(clamp(&small, &c), small);
    }

    #[test]
    fn the_memory_budget_counts_every_memory() {
        let mut b = Budget::new(10 << 20, 5);
        // Two memories of 6 MiB each: the second does not fit in a 10 MiB budget.
        assert!(b.memory_growing(0, 6 << 20, None).is_ok());
        assert!(b.memory_growing(0, 6 << 20, None).is_err());
        assert!(b.memory_growing(0, 4 << 20, None).is_ok());
        assert!(b.table_growing(0, 5, None).is_ok());
        assert!(b.table_growing(5, 6, None).is_err());
    }
}
