//! `secret('name')`: a value from hoist's secret store (see `crate::secrets`), marked for
//! redaction in every output before it is returned.

use minijinja::{Environment, Error, ErrorKind};

pub fn register(env: &mut Environment<'static>) {
    env.add_function("secret", secret);
}

fn secret(name: String) -> Result<String, Error> {
    crate::secrets::get(&name).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}
