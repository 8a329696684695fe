//! Fuzz target `ballot_json`: see `minping_fuzz::checks::ballot_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minping_fuzz::checks::ballot_json(data));
