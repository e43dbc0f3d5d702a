//! The `password` lookup, as Ansible's: `lookup('password', 'PATH length=N chars=SETS')` returns
//! the first line of PATH on the controller, generating a random password there first (mode 0600,
//! written through a temp file and a rename) when PATH does not exist. `/dev/null` never stores.
//! Relative paths are relative to the playbook's directory.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What one term asks for.
#[derive(Debug, PartialEq)]
pub struct PasswordSpec {
    pub path: String,
    pub length: usize,
    pub chars: Vec<char>,
}

/// Parses `PATH key=value ...` (keys: `length`, `chars`; `encrypt`, `seed`, `ident` refused).
pub fn parse(term: &str) -> Result<PasswordSpec, String> {
    let mut words = term.split_whitespace();
    let path = words
        .next()
        .ok_or("lookup('password'): a path is required")?
        .to_string();
    let mut length = 20usize;
    let mut sets = vec!["ascii_letters", "digits", ".,:-_"];
    let mut owned: Vec<String> = Vec::new();
    for w in words {
        let (k, v) = w
            .split_once('=')
            .ok_or_else(|| format!("lookup('password'): expected key=value, got `{w}`"))?;
        match k {
            "length" => {
                length = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=1024).contains(n))
                    .ok_or_else(|| {
                        format!("lookup('password'): length must be 1..1024, got `{v}`")
                    })?
            }
            "chars" => owned = v.split(',').map(str::to_string).collect(),
            other => {
                return Err(format!(
                    "lookup('password'): `{other}` is not supported (supported: length, chars)"
                ));
            }
        }
    }
    if !owned.is_empty() {
        sets = owned.iter().map(String::as_str).collect();
    }
    let mut chars = Vec::new();
    for s in sets {
        let add: String = match s {
            "ascii_letters" => ('a'..='z').chain('A'..='Z').collect(),
            "ascii_lowercase" => ('a'..='z').collect(),
            "ascii_uppercase" => ('A'..='Z').collect(),
            "digits" => ('0'..='9').collect(),
            "hexdigits" => "0123456789abcdefABCDEF".into(),
            "punctuation" => "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".into(),
            literal => literal.into(),
        };
        for c in add.chars() {
            if !chars.contains(&c) {
                chars.push(c);
            }
        }
    }
    if chars.is_empty() {
        return Err("lookup('password'): `chars` names no characters".into());
    }
    Ok(PasswordSpec {
        path,
        length,
        chars,
    })
}

/// Reads or creates the password `spec` describes; `base` resolves a relative path.
pub fn get(spec: &PasswordSpec, base: &Path) -> Result<String, String> {
    let fresh = || random(spec.length, &spec.chars);
    if spec.path == "/dev/null" {
        return fresh();
    }
    let path = if Path::new(&spec.path).is_absolute() {
        PathBuf::from(&spec.path)
    } else {
        base.join(&spec.path)
    };
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            let line = s.lines().next().unwrap_or_default();
            // Ansible stores `password salt=...`: the password is the first word.
            Ok(line.split(" salt=").next().unwrap_or_default().to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pw = fresh()?;
            store(&path, &pw)
                .map_err(|e| format!("lookup('password'): {}: {e}", path.display()))?;
            Ok(pw)
        }
        Err(e) => Err(format!("lookup('password'): {}: {e}", path.display())),
    }
}

fn store(path: &Path, pw: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".password.tmp.{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(format!("{pw}\n").as_bytes())?;
    f.sync_all()?;
    // Two runs racing: the first rename wins and both read the same file afterwards.
    if path.exists() {
        std::fs::remove_file(&tmp)?;
        return Ok(());
    }
    std::fs::rename(&tmp, path)
}

/// `length` characters from `chars`, unbiased, from the kernel's random source.
fn random(length: usize, chars: &[char]) -> Result<String, String> {
    let mut urandom = std::fs::File::open("/dev/urandom")
        .map_err(|e| format!("lookup('password'): /dev/urandom: {e}"))?;
    // Samples are 32-bit, so any number of characters works (with bytes, more than 256
    // distinct characters left no acceptable sample and the loop never ended).
    let n = chars.len() as u64;
    if n == 0 {
        return Err("lookup('password'): `chars` names no characters".into());
    }
    let span = 1u64 << 32;
    let limit = span - (span % n);
    let mut out = String::with_capacity(length);
    let mut got = 0usize;
    let mut buf = [0u8; 256];
    while got < length {
        urandom
            .read_exact(&mut buf)
            .map_err(|e| format!("lookup('password'): /dev/urandom: {e}"))?;
        for w in buf.chunks_exact(4) {
            let v = u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
            if v < limit && got < length {
                out.push(chars[(v % n) as usize]);
                got += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_than_256_distinct_characters_end() {
        let chars: Vec<char> = (0x100u32..0x100 + 300).filter_map(char::from_u32).collect();
        assert_eq!(chars.len(), 300);
        let s = random(40, &chars).expect("a password");
        assert_eq!(s.chars().count(), 40);
        assert!(s.chars().all(|c| chars.contains(&c)));
    }

    #[test]
    fn parses_options_and_char_sets() {
        let s = parse("creds/pg length=8 chars=digits").unwrap();
        assert_eq!(s.path, "creds/pg");
        assert_eq!(s.length, 8);
        assert_eq!(s.chars.len(), 10);
        assert!(parse("x length=0").is_err());
        assert!(parse("x encrypt=sha512_crypt").is_err());
        assert!(parse("x nonsense").is_err());
    }

    #[test]
    fn generates_once_then_reads_back() {
        let dir = std::env::temp_dir().join(format!("hoist-pw-{}", std::process::id()));
        let spec = parse("sub/pw length=32 chars=hexdigits").unwrap();
        let a = get(&spec, &dir).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        let b = get(&spec, &dir).unwrap();
        assert_eq!(a, b);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("sub/pw"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let n = get(&parse("/dev/null length=5").unwrap(), &dir).unwrap();
        assert_eq!(n.len(), 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
