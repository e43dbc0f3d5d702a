//! The connection multiplexer (ControlPersist for hoist): a background process that keeps SSH
//! connections open between `hoist` invocations, so a later run skips key exchange and
//! authentication. One JSON request per Unix-socket connection, one JSON response back.
//! The socket lives in a directory only its user can enter, and each end checks the other runs
//! as the same user ([`private_dir`]). The SSH key passphrase never travels over the socket.

mod client;
mod private_dir;
mod protocol;
mod server;

pub use client::{default_socket, request};
pub use private_dir::{TrustError, ensure as ensure_private_dir};
pub use protocol::{ExecRequest, HostReply, Request, Response};
pub use server::serve;
