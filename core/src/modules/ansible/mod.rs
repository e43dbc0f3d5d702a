//! The Ansible-module fallback: a module hoist has no native version of runs as Ansible's own
//! code. Modules come from `library/` directories (any language), ansible-core's built-in
//! modules and installed collections (found, and Python ones packaged, by ansible-core itself
//! through a helper process on the controller); they run under the host's Python or as
//! programs, and what they print back is data. Native modules always win over this room.

mod forced;
mod helper;
mod locate;
mod result;
mod run;

pub use forced::{Forced, force, forced, refusal as forced_refusal};
pub use helper::{
    HelperError, add_collection_root, list as ansible_modules, python as controller_python,
};
pub use locate::{Located, Style, in_library, library_dirs, locate, locate_in, style_of};
pub use result::outcome as module_outcome;
pub use run::{ANSIBLE_VERSION, run};
