//! The network: downloads, HTTP requests, waiting for ports, paths and the host itself.

pub(crate) mod get_url;
pub(crate) mod known_hosts;
pub(crate) mod uri;
pub(crate) mod wait_for;
pub(crate) mod wait_for_connection;
