//! Who may talk to the multiplexer: its socket lives in a directory only this user can enter
//! (made exclusively when hoist makes it; refused when someone else owns it or others may enter
//! it), and both ends check the other's user id on the socket (`SO_PEERCRED`), so a local user
//! can neither plant a fake multiplexer nor send requests to ours.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

/// Why a socket directory or peer is refused.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{path}: {why}")]
    Dir { path: String, why: String },
    #[error("the multiplexer socket's peer runs as uid {peer}, not as this user (uid {me})")]
    Peer { peer: u32, me: u32 },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Makes sure the socket's directory is ours and private, creating it (mode 0700, exclusively)
/// when it is missing. For a socket placed explicitly (`shared_ok`), a directory of ours that
/// others may read but not write, or a root-owned sticky directory such as /tmp, is accepted
/// too: the socket itself is 0600 and guarded by the peer checks.
pub fn ensure(socket: &Path, shared_ok: bool) -> Result<(), TrustError> {
    let Some(dir) = socket.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    let me = crate::sys::effective_uid()?;
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            match std::fs::DirBuilder::new().mode(0o700).create(dir) {
                Ok(()) => {}
                // Made meanwhile (by another hoist of ours, or by someone else): check it below.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.into()),
            }
            check(dir, &std::fs::symlink_metadata(dir)?, me, shared_ok)
        }
        Err(e) => Err(e.into()),
        Ok(meta) => check(dir, &meta, me, shared_ok),
    }
}

fn check(dir: &Path, meta: &std::fs::Metadata, me: u32, shared_ok: bool) -> Result<(), TrustError> {
    let refuse = |why: String| TrustError::Dir {
        path: dir.display().to_string(),
        why,
    };
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(refuse(
            "is not a directory (a symlink or file is refused)".into(),
        ));
    }
    let mode = meta.mode() & 0o7777;
    // hoist's own directory is 0700; one chosen by the user must at least be ours and closed
    // to writes by others (nobody else can put or replace a socket in it).
    let closed = if shared_ok { 0o022 } else { 0o077 };
    if meta.uid() == me && mode & closed == 0 {
        return Ok(());
    }
    if shared_ok && meta.uid() == 0 && mode & 0o1000 != 0 {
        return Ok(());
    }
    if meta.uid() != me {
        return Err(refuse(format!(
            "is owned by uid {}, not by this user (uid {me}); someone else made it: remove it or \
             set HOIST_MUX_SOCKET to a path in a directory of yours",
            meta.uid()
        )));
    }
    Err(refuse(format!(
        "has mode {mode:04o}; the multiplexer's directory must be 0700 (chmod 700 it)"
    )))
}

/// Refuses a peer on the socket that is not this user.
pub fn check_peer(stream: &tokio::net::UnixStream) -> Result<(), TrustError> {
    let me = crate::sys::effective_uid()?;
    let peer = stream.peer_cred()?.uid();
    if peer == me {
        Ok(())
    } else {
        Err(TrustError::Peer { peer, me })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn makes_a_private_dir_and_refuses_open_ones() {
        let t = tempfile::tempdir().expect("tempdir");
        let sock = t.path().join("d/mux.sock");
        ensure(&sock, false).expect("made");
        let meta = std::fs::metadata(t.path().join("d")).expect("meta");
        assert_eq!(meta.mode() & 0o777, 0o700);
        // Already there and private: fine.
        ensure(&sock, false).expect("again");
        std::fs::set_permissions(t.path().join("d"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let e = ensure(&sock, false).expect_err("0755 refused").to_string();
        assert!(e.contains("0755"), "{e}");
        // A symlink to a private directory is refused too.
        std::fs::create_dir(t.path().join("real")).expect("mkdir");
        std::fs::set_permissions(
            t.path().join("real"),
            std::fs::Permissions::from_mode(0o700),
        )
        .expect("chmod");
        std::os::unix::fs::symlink(t.path().join("real"), t.path().join("link")).expect("ln");
        let e = ensure(&t.path().join("link/mux.sock"), false)
            .expect_err("symlink refused")
            .to_string();
        assert!(e.contains("symlink"), "{e}");
    }
}
