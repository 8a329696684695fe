//! Fuzz target `report_draft`: see `minping_fuzz::checks::report_draft`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minping_fuzz::checks::report_draft(data));
