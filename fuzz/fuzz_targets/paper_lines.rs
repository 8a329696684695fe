//! Fuzz target `paper_lines`: see `minping_fuzz::checks::paper_lines`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minping_fuzz::checks::paper_lines(data));
