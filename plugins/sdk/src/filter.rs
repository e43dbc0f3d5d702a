//! Filter plugins: Jinja filters and tests. Implement [`Filters`], register with
//! [`register_filters!`](crate::register_filters).

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "filter",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_filter",
        default_bindings_module: "hoist_plugin_sdk::filter::bindings",
    });
}

use serde_json::Value;

pub use bindings::FilterKind;

/// One filter or test the plugin provides.
#[derive(Debug, Clone)]
pub struct FilterInfo {
    pub name: String,
    pub kind: FilterKind,
    pub description: String,
}

impl FilterInfo {
    pub fn filter(name: &str, description: &str) -> Self {
        FilterInfo {
            name: name.into(),
            kind: FilterKind::Filter,
            description: description.into(),
        }
    }
    pub fn test(name: &str, description: &str) -> Self {
        FilterInfo {
            name: name.into(),
            kind: FilterKind::Test,
            description: description.into(),
        }
    }
}

/// A set of filters and tests.
pub trait Filters {
    fn describe() -> Vec<FilterInfo>;
    /// `value | name(args...)`; tests return `Value::Bool`.
    fn call(name: &str, value: Value, args: Vec<Value>) -> Result<Value, String>;
}

#[doc(hidden)]
pub struct Adapter<T>(core::marker::PhantomData<T>);

impl<T: Filters> bindings::Guest for Adapter<T> {
    fn describe() -> Vec<bindings::FilterInfo> {
        T::describe()
            .into_iter()
            .map(|f| bindings::FilterInfo {
                name: f.name,
                kind: f.kind,
                description: f.description,
            })
            .collect()
    }

    fn call(name: String, value: String, args: String) -> Result<String, String> {
        let value: Value =
            serde_json::from_str(&value).map_err(|e| format!("value is not JSON: {e}"))?;
        let args = match serde_json::from_str(&args) {
            Ok(Value::Array(a)) => a,
            _ => return Err("arguments must be a JSON list".into()),
        };
        T::call(&name, value, args).map(|v| v.to_string())
    }
}

/// Registers the plugin's [`Filters`] type.
#[macro_export]
macro_rules! register_filters {
    ($t:ty) => {
        type __HoistFilterExport = $crate::filter::Adapter<$t>;
        $crate::filter::bindings::__export_filter!(__HoistFilterExport with_types_in $crate::filter::bindings);
    };
}
