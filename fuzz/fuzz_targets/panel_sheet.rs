//! Fuzz target `panel_sheet`: see `minping_fuzz::checks::panel_sheet`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minping_fuzz::checks::panel_sheet(data));
