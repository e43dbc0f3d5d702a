//! API tokens: `hst_<public id>_<secret>`. Only the public id and a SHA-256 of the secret are
//! stored (the secret has 256 bits of entropy, so a fast hash is enough); the whole token is
//! shown once, when created.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Scopes, each at most the user's role: `read` (viewer), `run` (operator), `admin`.
pub const SCOPES: [&str; 3] = ["read", "run", "admin"];

/// A new token: (public id, secret, the full token text).
pub fn generate() -> (String, String, String) {
    let mut id = [0u8; 9];
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
    let (id, secret) = (URL_SAFE_NO_PAD.encode(id), URL_SAFE_NO_PAD.encode(secret));
    let text = format!("hst_{id}_{secret}");
    (id, secret, text)
}

/// The stored form of a secret.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Splits a token into (public id, secret); `None` when it is not one of ours.
pub fn split(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("hst_")?;
    // The public id is 12 base64url characters (9 bytes); base64url may contain `_`.
    if rest.len() < 14 || rest.as_bytes().get(12) != Some(&b'_') {
        return None;
    }
    let (id, secret) = (&rest[..12], &rest[13..]);
    (!secret.is_empty()).then_some((id, secret))
}

/// Constant-time comparison of two digests.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_back_into_their_parts() {
        for _ in 0..50 {
            let (id, secret, text) = generate();
            assert_eq!(split(&text), Some((id.as_str(), secret.as_str())));
            assert_eq!(digest(&secret).len(), 64);
        }
        assert_eq!(split("hst_short"), None);
        assert_eq!(split("Bearer x"), None);
        assert!(same(&digest("a"), &digest("a")) && !same(&digest("a"), &digest("b")));
    }
}
