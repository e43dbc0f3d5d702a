//! Callback plugins: see every run event. Implement [`Callback`], register with
//! [`register_callback!`](crate::register_callback).
//!
//! The plugin instance lives for the whole run, so a callback may keep state between events
//! (in a `static`/`thread_local!`, the guest is single-threaded) and write its report on the
//! `recap` event.

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "callback",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_callback",
        default_bindings_module: "hoist_plugin_sdk::callback::bindings",
    });
}

use serde_json::Value;

/// A run event receiver. Events are the JSON objects of `hoist run -o json` (field `event`:
/// `play_start`, `task_start`, `host_result`, `handler_start`, `recap`, ...), secrets redacted.
pub trait Callback {
    fn on_event(event: Value) -> Result<(), String>;
}

#[doc(hidden)]
pub struct Adapter<T>(core::marker::PhantomData<T>);

impl<T: Callback> bindings::Guest for Adapter<T> {
    fn on_event(event: String) -> Result<(), String> {
        let v = serde_json::from_str(&event).map_err(|e| format!("event is not JSON: {e}"))?;
        T::on_event(v)
    }
}

/// Registers the plugin's [`Callback`] type.
#[macro_export]
macro_rules! register_callback {
    ($t:ty) => {
        type __HoistCallbackExport = $crate::callback::Adapter<$t>;
        $crate::callback::bindings::__export_callback!(__HoistCallbackExport with_types_in $crate::callback::bindings);
    };
}
