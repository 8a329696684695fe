//! Fuzz target `frame_text`: see `minping_fuzz::checks::frame_text`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minping_fuzz::checks::frame_text(data));
