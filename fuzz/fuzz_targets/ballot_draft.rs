//! Fuzz target `ballot_draft`: see `minping_fuzz::checks::ballot_draft`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minping_fuzz::checks::ballot_draft(data));
