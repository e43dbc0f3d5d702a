//! Packages: apt (and `package` on Debian-family hosts), dpkg selections, debconf answers,
//! and the installed packages as facts.

pub(crate) mod apt;
pub(crate) mod apt_repository;
pub(crate) mod deb822_repository;
pub(crate) mod debconf;
pub(crate) mod dpkg_selections;
pub(crate) mod package_facts;
