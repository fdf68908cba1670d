//! Any bytes as an uploaded file: the reader refuses or accepts, never panics, and
//! whatever it accepts is a checked data set (finite, at least 3 points, x varying).
#![no_main]

use bayesband::data::csv::parse_table_bytes;
use bayesband::data::csv::DEFAULT_MAX_BYTES;
use bayesband::data::{parse_csv_bytes, CsvOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let opts = CsvOptions::default();
    if let Ok(d) = parse_csv_bytes(bytes, &opts) {
        assert_eq!(d.x.len(), d.y.len());
        assert!(d.len() >= 3);
        assert!(d.x.iter().chain(&d.y).all(|v| v.is_finite()));
        assert!(d.x.iter().any(|&v| v != d.x[0]));
    }
    if let Ok(table) = parse_table_bytes(bytes, DEFAULT_MAX_BYTES) {
        assert_eq!(table.headers.len(), table.columns.len());
        assert_eq!(table.errors.len(), table.columns.len());
        for c in &table.columns {
            assert_eq!(c.len(), table.lines.len());
        }
        let n = table.headers.len();
        // Every way of choosing columns: by default, by name and by position (in and out of range).
        let _ = table.to_dataset(None, None);
        for (i, name) in table.headers.iter().enumerate().take(4) {
            let _ = table.to_dataset(Some(name), None);
            let _ = table.to_dataset(None, Some(name));
            let _ = table.to_dataset(Some(&(i + 1).to_string()), Some(&(n + 1 - i).to_string()));
        }
        let _ = table.to_dataset(Some("0"), Some("99999999999999999999"));
    }
});
