//! Fuzz target `one_time_code`: see `minping_fuzz::checks::one_time_code`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minping_fuzz::checks::one_time_code(data));
