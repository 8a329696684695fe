//! minping (民评): the command line and the demo district.

pub mod cli;
pub mod demo;
pub mod forms;
pub mod panel;

pub(crate) use minping_app::files::write_owner_only;
