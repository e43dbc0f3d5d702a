//! Files on the host: content, attributes, in-place edits, links, archives, stat.

pub(crate) mod assemble;
pub(crate) mod blockinfile;
pub(crate) mod copy;
pub(crate) mod fetch;
pub(crate) mod file;
pub(crate) mod file_diff;
pub(crate) mod file_link;
pub(crate) mod file_times;
pub(crate) mod files_common;
pub(crate) mod find;
pub(crate) mod lineinfile;
pub(crate) mod path_lock;
pub(crate) mod replace;
pub(crate) mod slurp;
pub(crate) mod stat;
pub(crate) mod tempfile;
pub(crate) mod unarchive;
