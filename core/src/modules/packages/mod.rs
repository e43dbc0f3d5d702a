//! Packages: apt (and `package` on Debian-family hosts).

pub(crate) mod apt;
