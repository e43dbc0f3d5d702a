//! hoist's own operations modules: health checks and backup rotation.

pub(crate) mod backup_rotate;
pub(crate) mod health;
