//! Any text as a page link's query string: applying it never panics; on success the
//! settings validate (and survive another trip through a link), on failure nothing changed.
#![no_main]

use bayesband::ui::settings::{DataSource, Settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(query) = std::str::from_utf8(bytes) else { return };
    let _ = Settings::query_has_settings(query);
    let mut s = Settings::default();
    match s.apply_query(query) {
        Ok(()) => {
            s.config.validate().expect("apply_query accepted settings that do not validate");
            if let DataSource::Generated { n, .. } = s.source {
                assert!((2..=100_000).contains(&n));
            }
            let mut back = Settings::default();
            back.apply_query(&s.to_query()).expect("a link made from accepted settings opens");
            assert_eq!(back, s);
        }
        Err(_) => assert_eq!(s, Settings::default(), "a refused link changed the settings"),
    }
});
