//! Properties of data reading and scaling over generated inputs (proptest).

use bayesband::data::{parse_csv, parse_csv_bytes, CsvOptions, Dataset, Scaling};
use proptest::prelude::*;

/// 256 cases per property keeps the suite to a few seconds in the test profile.
fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, ..ProptestConfig::default() }
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        -1e6f64..1e6,
        (-300i32..300).prop_map(|e| 10f64.powi(e)),
        Just(0.0),
        Just(-0.0),
        Just(5e-324),
        Just(f64::MAX),
        Just(f64::MIN),
    ]
}

/// Rows with x not all equal (otherwise the file is refused, as it should be).
fn points() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec((finite(), finite()), 3..40).prop_filter("x varies", |p| p.iter().any(|&(x, _)| x != p[0].0))
}

/// Text made of the characters CSV files are made of, so that most inputs get
/// past the first checks and exercise the sniffer and the cell reader.
fn csvish_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("1"),
            Just("-2.5"),
            Just("1e300"),
            Just("NaN"),
            Just("inf"),
            Just("x"),
            Just("\"y\""),
            Just(","),
            Just(";"),
            Just("\t"),
            Just(" "),
            Just("\n"),
            Just("\r\n"),
            Just("\r"),
            Just("#"),
            Just("\""),
            Just(".5"),
            Just("1,5"),
            Just("\u{feff}"),
            Just("é"),
        ],
        0..60,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_csv_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = parse_csv(&text, &CsvOptions::default());
    }

    #[test]
    fn parse_csv_never_panics_on_csv_like_text(text in csvish_text(), x in prop::option::of("[123xy]"), y in prop::option::of("[123xy]")) {
        let opts = CsvOptions { x_column: x, y_column: y, ..CsvOptions::default() };
        if let Ok(d) = parse_csv(&text, &opts) {
            // Whatever is accepted is fit to use.
            prop_assert!(d.check().is_ok());
        }
    }

    #[test]
    fn parse_csv_bytes_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_csv_bytes(&bytes, &CsvOptions::default());
    }

    /// Writing finite values with Rust's shortest round-trip formatting (`{:?}`)
    /// and reading them back gives the same bits, with any delimiter and with or
    /// without a header.
    #[test]
    fn written_values_read_back_bit_exact(
        rows in points(),
        delimiter in prop::sample::select(vec![",", ";", "\t", " ", "   ", ", "]),
        header in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        if header {
            text.push_str(&format!("x{delimiter}y{end}"));
        }
        for (x, y) in &rows {
            text.push_str(&format!("{x:?}{delimiter}{y:?}{end}"));
        }
        let d = parse_csv(&text, &CsvOptions::default()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&d.x), rows.iter().map(|r| r.0.to_bits()).collect::<Vec<_>>());
        prop_assert_eq!(bits(&d.y), rows.iter().map(|r| r.1.to_bits()).collect::<Vec<_>>());
    }

    /// Scaling is finite for any finite data, and y_from_std undoes y_to_std up to
    /// rounding: within 1e-12 of the data's own scale |y| + |y_mean| + y_sd (a value
    /// tiny next to the mean cannot keep its relative digits through y - y_mean,
    /// whatever the implementation).
    #[test]
    fn scaling_is_finite_and_round_trips(rows in points(), raw in any::<bool>()) {
        let (x, y): (Vec<f64>, Vec<f64>) = rows.into_iter().unzip();
        let d = Dataset::new(x, y);
        let s = Scaling::fit(&d, raw);
        for v in [s.x_mean, s.x_sd, s.y_mean, s.y_sd] {
            prop_assert!(v.is_finite());
        }
        prop_assert!(s.x_sd > 0.0 && s.y_sd > 0.0);
        for &y in &d.y {
            let back = s.y_from_std(s.y_to_std(y));
            let scale = y.abs() + s.y_mean.abs() + s.y_sd;
            prop_assert!((back - y).abs() <= 1e-12 * scale, "y {y:e} -> {back:e} with {s:?}");
        }
        for &x in &d.x {
            let back = s.x_from_std(s.x_to_std(x));
            prop_assert!((back - x).abs() <= 1e-12 * (x.abs() + s.x_mean.abs() + s.x_sd));
        }
    }

    /// For values of one order of magnitude the round trip is relative to y itself.
    #[test]
    fn scaling_round_trips_relative_to_y(y in prop::collection::vec(1f64..10.0, 3..40), unit in -200i32..200) {
        let unit = 10f64.powi(unit);
        let y: Vec<f64> = y.iter().map(|v| v * unit).collect();
        let d = Dataset::new((0..y.len()).map(|i| i as f64).collect(), y);
        let s = Scaling::fit(&d, false);
        for &v in &d.y {
            let back = s.y_from_std(s.y_to_std(v));
            prop_assert!((back / v - 1.0).abs() <= 1e-12, "{v:e} -> {back:e}");
        }
    }
}

/// The outlier rule never trips on the reference data sets or on any generator's
/// draws (several N and seeds): their farthest value stays under a tenth of the
/// threshold (3 points give a degenerate MAD), under 10 robust sds from N = 40.
#[test]
fn the_outlier_rule_never_trips_on_the_reference_data_or_the_generators() {
    use bayesband::data::{Synthetic, OUTLIER_ROBUST_SDS};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data");
    for name in ["nb_exp", "nb_step", "bump", "linear"] {
        let text = std::fs::read_to_string(format!("{dir}/{name}_train.csv")).unwrap();
        let d = parse_csv(&text, &CsvOptions::default()).unwrap();
        assert!(d.outlier().is_none() && d.max_robust_sds() < 10.0, "{name}: {}", d.max_robust_sds());
    }
    for k in Synthetic::ALL {
        for n in [3, 10, 40, 150, 2000] {
            for seed in 0..20 {
                let d = k.generate(n, seed);
                let z = d.max_robust_sds();
                let limit = if n >= 40 { 10.0 } else { OUTLIER_ROBUST_SDS / 10.0 };
                assert!(z < limit && d.outlier().is_none(), "{} n {n} seed {seed}: {z}", k.name());
            }
        }
    }
}

/// One value of 1e12 among values of order one is found, named with its line, and
/// refused for fitting; the same file without it is fine.
#[test]
fn a_value_far_outside_the_others_is_named_with_its_line() {
    use bayesband::data::parse_table;
    let mut text = String::from("# measured\nx,y\n");
    for i in 0..40 {
        let y = if i == 16 { 1e12 } else { (i as f64 / 4.0).sin() };
        text.push_str(&format!("{},{y:?}\n", i as f64 / 4.0));
    }
    let table = parse_table(&text, usize::MAX).unwrap();
    let d = table.to_dataset(None, None).unwrap();
    let e = table.outlier(&d).expect("the outlier is found").to_string();
    assert!(e.starts_with("line 19: y = 1e12 lies far outside the other values"), "{e}");
    let fit_err = d.check_fit().unwrap_err().to_string();
    assert!(fit_err.contains("point 17") && fit_err.contains("1e12"), "{fit_err}");
    // Also in x, and a mere large value among large values is no outlier.
    let mut d2 = d.clone();
    d2.y[16] = 0.5;
    assert!(d2.check_fit().is_ok());
    d2.x[3] = -4e9;
    assert_eq!(d2.outlier().map(|o| (o.index, o.axis)), Some((3, "x")));
    let big = Dataset::new((0..40).map(|i| i as f64).collect(), (0..40).map(|i| 1e12 * (1.0 + (i as f64).sin())).collect());
    assert!(big.check_fit().is_ok());
    // More than half the values equal (MAD = 0): the mean absolute deviation is the spread.
    let mostly_zero = Dataset::new((0..40).map(|i| i as f64).collect(), (0..40).map(|i| if i % 3 == 0 { 1.0 } else { 0.0 }).collect());
    assert!(mostly_zero.check_fit().is_ok());
}
