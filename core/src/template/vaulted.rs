//! Vaulted values: a `!vault` scalar is the one-key object `{"__ansible_vault": "<envelope>"}`
//! (ansible-core's JSON form of vaulted values) until it is used; using it decrypts it with
//! the run's vault passwords, or fails the way ansible-core fails. The `vault`/`unvault`
//! filters encrypt and decrypt with a password given in the template.

use super::TemplateError;
use crate::vault::{self, Secret};
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, Value};
use serde_json::{Map, Value as Json};

/// The key of the marker object.
pub const VAULT_KEY: &str = "__ansible_vault";

/// `envelope` as a vaulted value.
pub fn mark(envelope: String) -> Json {
    let mut m = Map::new();
    m.insert(VAULT_KEY.to_string(), Json::String(envelope));
    Json::Object(m)
}

/// The envelope inside a marker object.
pub fn envelope(m: &Map<String, Json>) -> Option<&str> {
    (m.len() == 1)
        .then(|| m.get(VAULT_KEY).and_then(Json::as_str))
        .flatten()
}

/// The plain text of a vaulted value.
pub fn open(m: &Map<String, Json>) -> Result<Json, TemplateError> {
    let env = envelope(m).unwrap_or_default();
    let plain = vault::decrypt(env).map_err(|e| TemplateError::new(e.to_string()))?;
    Ok(Json::String(String::from_utf8_lossy(&plain).into_owned()))
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn secret_arg(v: &Value) -> Result<Vec<u8>, Error> {
    v.as_str()
        .map(|s| s.as_bytes().to_vec())
        .ok_or_else(|| invalid("Secret passed is required to be a string"))
}

/// The envelope a value holds: a vault text, or a vaulted value's.
fn envelope_of(v: &Value) -> Option<String> {
    if let Some(s) = v.as_str() {
        return vault::is_vaulted(s).then(|| s.to_string());
    }
    v.get_attr(VAULT_KEY)
        .ok()
        .and_then(|e| e.as_str().map(str::to_string))
}

pub fn register(env: &mut Environment<'static>) {
    env.add_filter(
        "vault",
        |data: Value, secret: Value, kw: Kwargs| -> Result<String, Error> {
            let salt: Option<Value> = kw.get("salt")?;
            let label: String = kw
                .get::<Option<String>>("vault_id")?
                .unwrap_or_else(|| "filter_default".into());
            let _wrap: Option<bool> = kw.get("wrap_object")?;
            kw.assert_all_used()?;
            let plain = data.as_str().map(str::to_string).ok_or_else(|| {
                invalid(format!(
                    "Can only vault strings, instead we got {}",
                    data.kind()
                ))
            })?;
            let salt = salt.map(|s| s.to_string().into_bytes());
            Ok(vault::encrypt(
                plain.as_bytes(),
                &secret_arg(&secret)?,
                &label,
                salt.as_deref(),
            ))
        },
    );
    env.add_filter(
        "unvault",
        |data: Value, secret: Value, kw: Kwargs| -> Result<String, Error> {
            let label: String = kw
                .get::<Option<String>>("vault_id")?
                .unwrap_or_else(|| "filter_default".into());
            kw.assert_all_used()?;
            let Some(env) = envelope_of(&data) else {
                return match data.as_str() {
                    Some(s) => Ok(s.to_string()),
                    None => Err(invalid(format!(
                        "Vault expects a string, got {}",
                        data.kind()
                    ))),
                };
            };
            let s = Secret {
                label,
                password: secret_arg(&secret)?,
            };
            let plain = vault::decrypt_with(&env, std::slice::from_ref(&s))
                .map_err(|e| invalid(format!("Unable to decrypt: {e}")))?;
            Ok(String::from_utf8_lossy(&plain).into_owned())
        },
    );
}
