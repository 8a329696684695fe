//! minping's application layer: the workflows, between the pure domain and storage below and
//! their callers above (the web, the command line, the demo, the benchmarks). One module per
//! workflow; each returns an error enum of its own with a stable code (see [`error`]).
//!
//! Every workflow takes an [`App`], built from a [`Config`] read from a data folder
//! ([`Config::load`]) and an open store. The application's [`clock`] tells every workflow
//! what day it is, so history can be seeded through the same services a user calls.

mod app;

pub mod accountability;
pub mod accounts;
pub mod audit;
pub mod clock;
pub mod config;
pub mod conflicts;
pub mod draws;
pub mod entry;
pub mod error;
pub mod evidence;
pub mod files;
pub mod forms;
pub mod intake;
pub mod integrity;
pub mod notice;
pub mod org;
pub mod panel;
pub mod reports;
pub mod results;
pub mod rounds;

pub use app::App;
pub use config::{CodeKey, Config};
pub use error::{ErrorKind, WorkflowError};
