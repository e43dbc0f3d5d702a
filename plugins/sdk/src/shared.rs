//! Host functions every kind shares (logging; HTTP and controller files where the kind has
//! them), wrapped once over whichever world the crate builds.

#[cfg(feature = "callback")]
use crate::callback::bindings as world;
#[cfg(feature = "filter")]
use crate::filter::bindings as world;
#[cfg(feature = "inventory")]
use crate::inventory::bindings as world;
#[cfg(feature = "module")]
use crate::module::bindings as world;

use world::hoist::plugin::log::log as host_log;
use world::hoist::plugin::types::Level;

/// Log lines, shown with `-v` and kept in JSON events.
pub mod log {
    use super::{Level, host_log};

    pub fn debug(message: &str) {
        host_log(Level::Debug, message);
    }
    pub fn info(message: &str) {
        host_log(Level::Info, message);
    }
    pub fn warn(message: &str) {
        host_log(Level::Warn, message);
    }
    pub fn error(message: &str) {
        host_log(Level::Error, message);
    }
}

/// Outgoing HTTP(S) from the controller (needs the `http` capability for the host).
#[cfg(not(feature = "filter"))]
pub mod http {
    use super::world::hoist::plugin::http::request as host_request;
    pub use super::world::hoist::plugin::types::{HttpRequest, HttpResponse};

    impl HttpResponse {
        /// The body as text (lossy).
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
    }

    /// Sends one request.
    pub fn request(req: &HttpRequest) -> Result<HttpResponse, String> {
        host_request(req)
    }

    /// `method url` with a JSON body.
    pub fn send_json(
        method: &str,
        url: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> Result<HttpResponse, String> {
        let mut h: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        h.push(("content-type".into(), "application/json".into()));
        request(&HttpRequest {
            method: method.into(),
            url: url.into(),
            headers: h,
            body: body.to_string().into_bytes(),
            timeout_ms: 0,
        })
    }

    /// A GET.
    pub fn get(url: &str) -> Result<HttpResponse, String> {
        request(&HttpRequest {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout_ms: 0,
        })
    }
}

/// Files and environment variables on the controller (needs `read`/`write`/`env` grants).
#[cfg(any(feature = "inventory", feature = "callback"))]
pub mod controller {
    use super::world::hoist::plugin::controller as host;

    pub fn read_file(path: &str) -> Result<Vec<u8>, String> {
        host::read_file(path)
    }
    pub fn read_to_string(path: &str) -> Result<String, String> {
        let b = host::read_file(path)?;
        String::from_utf8(b).map_err(|_| format!("{path} is not UTF-8 text"))
    }
    pub fn write_file(path: &str, contents: &[u8]) -> Result<(), String> {
        host::write_file(path, contents)
    }
    pub fn env(name: &str) -> Option<String> {
        host::env(name)
    }
}
