//! Fuzz target `settings_toml`: see `minping_fuzz::checks::settings_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| minping_fuzz::checks::settings_toml(data));
