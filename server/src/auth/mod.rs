//! Authentication material: argon2 password hashes and API tokens.

pub mod guard;
pub mod password;
pub mod token;
