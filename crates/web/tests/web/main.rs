//! The web application's integration tests, in one binary (one link instead of one per file):
//! each module drives the application over HTTP on a random port, on SQLite and, when
//! `TEST_DATABASE_URL` is set, on PostgreSQL. The shared harness is in [`support`].

#[macro_use]
mod support;

mod access;
mod accountability;
mod api;
mod badinput;
mod contract;
mod entry;
mod evidence;
mod hardening;
mod insiders;
mod integrity;
mod pages;
mod panel;
mod reports;
mod rules;
mod sampling;
mod sanctions;
