//! Any bytes as a settings file (CLI --config, a project file's settings): decoding
//! never panics, validation never panics, and a config that validates round-trips.
#![no_main]

use bayesband::config::FitConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(config) = serde_json::from_str::<FitConfig>(text) else { return };
    if config.validate().is_ok() {
        let json = serde_json::to_string(&config).expect("a valid config serialises");
        let back: FitConfig = serde_json::from_str(&json).expect("a valid config reads back");
        assert_eq!(back, config, "JSON round trip changed a valid config: {json}");
    }
});
