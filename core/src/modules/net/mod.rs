//! The network: downloads, HTTP requests, waiting for ports and paths.

pub(crate) mod get_url;
pub(crate) mod uri;
pub(crate) mod wait_for;
