//! Packages: apt (and `package` on Debian-family hosts), and the installed packages as facts.

pub(crate) mod apt;
pub(crate) mod package_facts;
