//! Running playbooks: plays over their hosts in `serial` batches, tasks in the `linear` or `free`
//! strategy over pooled connections, blocks with rescue/always, loops, handlers, check and diff
//! mode. Everything that happens is reported as [`events::Event`]s to a [`events::Sink`].

pub mod events;
pub mod fact_cache;
mod handlers;
mod inherit;
mod inventory_view;
mod loop_texts;
mod loops;
mod play;
mod runner;
mod search_path;
mod state;
pub mod stats;
pub mod tags;
mod task;
mod walk;

pub use events::{Collect, Event, HostEvent, Sink, Status, Tee};
pub use runner::{Recap, RunError, RunOptions, Runner};
pub use stats::Stats;
