//! Fuzz target `panel_roundtrip`: see `minping_fuzz::checks::panel_roundtrip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minping_fuzz::checks::panel_roundtrip(data));
