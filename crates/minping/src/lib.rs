//! minping (民评): the command line and the demo district.

pub mod cli;
pub mod demo;
pub mod forms;
pub mod panel;
