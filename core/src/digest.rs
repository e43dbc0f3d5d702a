//! Hex digests by algorithm name (`sha1`, `sha256`, `sha512`, `md5`), shared by templates and
//! modules (`copy` compares checksums before it transfers anything).

use sha1::Digest;

/// The hex digest of `data`, or `None` for an unknown algorithm.
pub fn try_hex(algo: &str, data: &[u8]) -> Option<String> {
    let bytes: Vec<u8> = match algo {
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha224" => sha2::Sha224::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        "md5" => md5::Md5::digest(data).to_vec(),
        _ => return None,
    };
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The hex digest of `data` with a known algorithm (an unknown one gives an empty string).
pub fn hex(algo: &str, data: &[u8]) -> String {
    try_hex(algo, data).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_digests() {
        assert_eq!(
            super::hex("sha1", b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            super::hex("md5", b"abc"),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert!(super::try_hex("crc", b"abc").is_none());
    }
}
