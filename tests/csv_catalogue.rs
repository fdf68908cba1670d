//! The catalogue of CSV inputs BayesBand accepts or refuses, and what it says about each.
//!
//! One row per case: a name, the input, the column choice, and the expected outcome
//! (the values read, or the words and line number of the error). Read top to
//! bottom it is the user-facing specification of the CSV reader.

use bayesband::data::csv::{parse_csv_bytes, CsvOptions, MAX_ROWS};
use bayesband::data::{parse_csv, Dataset, Scaling};

/// What a case should produce.
enum Expect {
    /// The data set read: x, y and the axis labels.
    Ok { x: &'static [f64], y: &'static [f64], labels: (&'static str, &'static str) },
    /// An error on this line (or none), whose message contains every word given.
    Err { line: Option<usize>, words: &'static [&'static str] },
}

struct Case {
    name: &'static str,
    input: &'static [u8],
    /// x and y column choices, as a user would type them.
    columns: (Option<&'static str>, Option<&'static str>),
    max_bytes: Option<usize>,
    expect: Expect,
}

const NONE: (Option<&str>, Option<&str>) = (None, None);

const fn ok(x: &'static [f64], y: &'static [f64], labels: (&'static str, &'static str)) -> Expect {
    Expect::Ok { x, y, labels }
}
const fn err(line: Option<usize>, words: &'static [&'static str]) -> Expect {
    Expect::Err { line, words }
}
const fn case(name: &'static str, input: &'static str, expect: Expect) -> Case {
    Case { name, input: input.as_bytes(), columns: NONE, max_bytes: None, expect }
}

const XY: (&str, &str) = ("x", "y");

fn catalogue() -> Vec<Case> {
    vec![
        // --- files without usable data ---
        case("empty file", "", err(None, &["empty"])),
        case("only comments and blank lines", "# exported 2024\n\n   \n", err(None, &["empty"])),
        case("header only", "x,y\n", err(None, &["header (x, y)", "no data rows"])),
        case("one column", "x\n1\n2\n3\n", err(None, &["only one column (x)", "two are needed"])),
        case("one column with a space in its name", "time (s)\n1\n2\n3\n", err(None, &["only one column (time (s))"])),
        // --- choosing columns ---
        case(
            "three columns, no choice made",
            "a,b,c\n1,2,3\n4,5,6\n7,8,9\n",
            err(None, &["the file has 3 columns (a, b, c): choose the x and y columns"]),
        ),
        Case {
            name: "three columns, chosen by name",
            input: b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n",
            columns: (Some("c"), Some("a")),
            max_bytes: None,
            expect: ok(&[3.0, 6.0, 9.0], &[1.0, 4.0, 7.0], ("c", "a")),
        },
        Case {
            name: "three columns, chosen by 1-based index",
            input: b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n",
            columns: (Some("2"), Some("3")),
            max_bytes: None,
            expect: ok(&[2.0, 5.0, 8.0], &[3.0, 6.0, 9.0], ("b", "c")),
        },
        Case {
            name: "three headerless columns, no choice: generated names",
            input: b"1,2,3\n4,5,6\n7,8,9\n",
            columns: NONE,
            max_bytes: None,
            expect: err(None, &["3 columns (column 1, column 2, column 3)"]),
        },
        Case {
            name: "a column name that does not exist",
            input: b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n",
            columns: (Some("a"), Some("z")),
            max_bytes: None,
            expect: err(None, &["no column named 'z'", "a, b, c"]),
        },
        Case {
            name: "an index past the last column",
            input: b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n",
            columns: (Some("1"), Some("4")),
            max_bytes: None,
            expect: err(None, &["no column 4", "3 columns"]),
        },
        Case {
            name: "two columns, only x chosen: y is the other one",
            input: b"t,v\n1,2\n3,4\n5,7\n",
            columns: (Some("v"), None),
            max_bytes: None,
            expect: ok(&[2.0, 4.0, 7.0], &[1.0, 3.0, 5.0], ("v", "t")),
        },
        Case {
            name: "x and y the same column",
            input: b"t,v\n1,2\n3,4\n5,7\n",
            columns: (Some("t"), Some("1")),
            max_bytes: None,
            expect: err(None, &["same column (t)"]),
        },
        Case {
            name: "a text column is fine when it is not chosen",
            input: b"t,v,flag\n1,2,ok\n3,4,ok\n5,7,bad\n",
            columns: (Some("t"), Some("v")),
            max_bytes: None,
            expect: ok(&[1.0, 3.0, 5.0], &[2.0, 4.0, 7.0], ("t", "v")),
        },
        // --- bad cells: named by line and column ---
        case(
            "text where a number belongs",
            "x,y\n1,2\n3,4\n5,6\n6,abc\n",
            err(Some(5), &["'abc' is not a number (column y)"]),
        ),
        case("NaN refused", "x,y\n1,2\n3,4\n5,6\nNaN,1\n", err(Some(5), &["NaN is not allowed", "column x"])),
        case("Inf refused", "x,y\n1,2\n3,inf\n5,6\n", err(Some(3), &["Inf is not allowed", "column y"])),
        case("-Infinity refused", "x,y\n1,2\n3,-Infinity\n5,6\n", err(Some(3), &["Inf is not allowed"])),
        case("a number too large for f64", "x,y\n1,2\n3,1e400\n5,6\n", err(Some(3), &["'1e400' is too large"])),
        case("an empty field", "x,y\n1,2\n3,\n5,6\n", err(Some(3), &["missing", "column y"])),
        case("a missing field (ragged row)", "x,y\n1,2\n3\n5,6\n", err(Some(3), &["found 1 field but expected 2"])),
        case("an extra field (ragged row)", "x,y\n1,2\n3,4,5\n5,6\n", err(Some(3), &["found 3 fields but expected 2"])),
        case(
            "a ragged row in a headerless file",
            "1,2\n3,4\n5\n",
            err(Some(3), &["expected 2 fields like the first row"]),
        ),
        case(
            "headerless bad cell names the generated column",
            "1,2\n3,x4\n5,6\n",
            err(Some(2), &["'x4' is not a number (column 2)"]),
        ),
        // --- delimiters and number formats ---
        case("comma-delimited with a header", "x,y\n0.5,1\n1.5,2\n2.5,3\n", ok(&[0.5, 1.5, 2.5], &[1.0, 2.0, 3.0], XY)),
        case("headerless: axis labels x and y", "0.5,1\n1.5,2\n2.5,3\n", ok(&[0.5, 1.5, 2.5], &[1.0, 2.0, 3.0], XY)),
        case(
            "semicolon with decimal commas",
            "t;v\n1,5;2,3\n2,5;-0,75\n3;4,0\n",
            ok(&[1.5, 2.5, 3.0], &[2.3, -0.75, 4.0], ("t", "v")),
        ),
        case("semicolon with decimal points", "x;y\n1.5;2\n2.5;3\n3.5;4\n", ok(&[1.5, 2.5, 3.5], &[2.0, 3.0, 4.0], XY)),
        case(
            "tab-delimited",
            "time\tsignal\n0\t1.5\n1\t2.5\n2\t3.5\n",
            ok(&[0.0, 1.0, 2.0], &[1.5, 2.5, 3.5], ("time", "signal")),
        ),
        case(
            "whitespace-delimited, aligned columns",
            "   x      y\n  0.0   1.25\n  1.0  -2.5\n 10.0   3e2\n",
            ok(&[0.0, 1.0, 10.0], &[1.25, -2.5, 300.0], XY),
        ),
        case(
            "quoted fields",
            "\"x\",\"y value\"\n\"1.5\",\"2\"\n\"2.5\",3\n3.5,\"4\"\n",
            ok(&[1.5, 2.5, 3.5], &[2.0, 3.0, 4.0], ("x", "y value")),
        ),
        case(
            "quoted decimal commas in a semicolon file",
            "\"x\";\"y\"\n\"1,5\";\"2,5\"\n\"2,5\";\"3,5\"\n\"3,5\";\"4,5\"\n",
            ok(&[1.5, 2.5, 3.5], &[2.5, 3.5, 4.5], XY),
        ),
        case(
            "exponents, signs and leading/trailing spaces",
            "x, y\n +1e-3 , -2.5E+2\n.5,5.\n -0, 7\n",
            ok(&[1e-3, 0.5, -0.0], &[-250.0, 5.0, 7.0], XY),
        ),
        case(
            "values near 1e300 and 1e-300",
            "x,y\n1e300,1e-300\n-1.7976931348623157e308,5e-324\n2.5e-300,-3e299\n",
            ok(&[1e300, -1.7976931348623157e308, 2.5e-300], &[1e-300, 5e-324, -3e299], XY),
        ),
        // --- layout: encodings, line ends, comments ---
        case("UTF-8 BOM stripped", "\u{feff}x,y\n1,2\n2,3\n3,5\n", ok(&[1.0, 2.0, 3.0], &[2.0, 3.0, 5.0], XY)),
        case("CRLF line ends", "x,y\r\n1,2\r\n2,3\r\n3,5\r\n", ok(&[1.0, 2.0, 3.0], &[2.0, 3.0, 5.0], XY)),
        case("old Mac CR line ends", "x,y\r1,2\r2,3\r3,5\r", ok(&[1.0, 2.0, 3.0], &[2.0, 3.0, 5.0], XY)),
        case("trailing blank lines", "x,y\n1,2\n2,3\n3,5\n\n\n  \n", ok(&[1.0, 2.0, 3.0], &[2.0, 3.0, 5.0], XY)),
        case("trailing delimiter on every row", "x,y,\n1,2,\n2,3,\n3,5,\n", ok(&[1.0, 2.0, 3.0], &[2.0, 3.0, 5.0], XY)),
        case(
            "# comments anywhere, errors still name the source line",
            "# sensor A\n# units: s, V\nx,y\n1,2\n# recalibrated\n2,3\n3,?\n",
            err(Some(7), &["'?' is not a number"]),
        ),
        case(
            "# comments and blank lines skipped",
            "\n# sensor A\nx,y\n\n1,2\n  # note\n2,3\n3,5\n",
            ok(&[1.0, 2.0, 3.0], &[2.0, 3.0, 5.0], XY),
        ),
        // --- what the data must satisfy ---
        case("1 point", "x,y\n1,2\n", err(None, &["only 1 data point", "at least 3"])),
        case("2 points", "x,y\n1,2\n2,3\n", err(None, &["only 2 data points", "at least 3"])),
        case("3 points (the minimum)", "x,y\n1,2\n2,3\n3,1\n", ok(&[1.0, 2.0, 3.0], &[2.0, 3.0, 1.0], XY)),
        case("all x equal", "x,y\n2,1\n2,2\n2,3\n", err(None, &["all x values (x) are equal (2)"])),
        case("all y equal is fine", "x,y\n1,4\n2,4\n3,4\n", ok(&[1.0, 2.0, 3.0], &[4.0, 4.0, 4.0], XY)),
        case("duplicate x kept", "x,y\n1,2\n1,2\n1,3\n2,5\n", ok(&[1.0, 1.0, 1.0, 2.0], &[2.0, 2.0, 3.0, 5.0], XY)),
        case("x unsorted, order kept", "x,y\n3,1\n1,2\n2,3\n", ok(&[3.0, 1.0, 2.0], &[1.0, 2.0, 3.0], XY)),
        // --- files that are not CSV text ---
        Case {
            name: "binary bytes (a PNG header)",
            input: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
            columns: NONE,
            max_bytes: None,
            expect: err(None, &["binary", "NUL"]),
        },
        Case {
            name: "Latin-1 text (not UTF-8)",
            input: b"x,y\n1,2\n# caf\xe9\n3,4\n",
            columns: NONE,
            max_bytes: None,
            expect: err(Some(3), &["not UTF-8"]),
        },
        Case {
            name: "UTF-16 text",
            input: b"\xff\xfex\x00,\x00y\x00\n\x00",
            columns: NONE,
            max_bytes: None,
            expect: err(None, &["UTF-16", "save it as UTF-8"]),
        },
        Case {
            name: "a file over the size limit",
            input: b"x,y\n1,2\n2,3\n3,4\n4,5\n5,6\n",
            columns: NONE,
            max_bytes: Some(20),
            expect: err(None, &["the file is 24 bytes; the limit is 20 bytes"]),
        },
    ]
}

fn run(case: &Case) -> Result<Dataset, String> {
    let opts = CsvOptions {
        x_column: case.columns.0.map(String::from),
        y_column: case.columns.1.map(String::from),
        max_bytes: case.max_bytes.unwrap_or(CsvOptions::default().max_bytes),
    };
    let from_bytes = parse_csv_bytes(case.input, &opts);
    // Valid UTF-8 must read the same through the text entry point.
    if let Ok(text) = std::str::from_utf8(case.input) {
        assert_eq!(parse_csv(text, &opts), from_bytes, "{}: text and bytes entry points differ", case.name);
    }
    match from_bytes {
        Ok(d) => Ok(d),
        Err(e) => {
            // The line number is part of the message the user sees.
            let shown = e.to_string();
            match e.line {
                Some(l) => assert!(shown.starts_with(&format!("line {l}: ")), "{}: {shown}", case.name),
                None => assert!(!shown.starts_with("line "), "{}: {shown}", case.name),
            }
            Err(format!("{:?}|{shown}", e.line))
        }
    }
}

#[test]
fn catalogue_has_the_expected_outcome_for_every_case() {
    let cases = catalogue();
    assert!(cases.len() >= 25);
    let mut failures = Vec::new();
    for case in &cases {
        let got = run(case);
        let ok = match (&case.expect, &got) {
            (Expect::Ok { x, y, labels }, Ok(d)) => {
                let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
                let scaling = Scaling::fit(d, false);
                bits(&d.x) == bits(x)
                    && bits(&d.y) == bits(y)
                    && (d.x_label.as_str(), d.y_label.as_str()) == *labels
                    && d.truth.is_none()
                    && [scaling.x_mean, scaling.x_sd, scaling.y_mean, scaling.y_sd].iter().all(|v| v.is_finite())
                    && scaling.x_sd > 0.0
                    && scaling.y_sd > 0.0
            }
            (Expect::Err { line, words }, Err(msg)) => {
                let (got_line, shown) = msg.split_once('|').unwrap();
                got_line == format!("{line:?}") && words.iter().all(|w| shown.contains(w))
            }
            _ => false,
        };
        if !ok {
            failures.push(format!("{}: got {:?}", case.name, got));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn case_names_are_unique() {
    let cases = catalogue();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len());
}

#[test]
fn all_y_equal_gives_a_finite_shift_only_scaling() {
    let d = parse_csv("x,y\n1,4\n2,4\n3,4\n", &CsvOptions::default()).unwrap();
    let s = Scaling::fit(&d, false);
    assert_eq!((s.y_mean, s.y_sd), (4.0, 1.0));
    assert_eq!(s.y_to_std(4.0), 0.0);
}

#[test]
fn size_limit_message_uses_megabytes() {
    let big = "1,2\n".repeat(13_075_000); // 52.3 MB
    let e = parse_csv(&big, &CsvOptions::default()).unwrap_err();
    assert_eq!(e.to_string(), "the file is 52.3 MB; the limit is 20 MB");
}

#[test]
fn more_rows_than_the_cap_are_refused_with_the_line() {
    let mut text = String::from("x,y\n");
    for i in 0..=MAX_ROWS {
        text.push_str(&format!("{i},1\n"));
    }
    let opts = CsvOptions { max_bytes: usize::MAX, ..CsvOptions::default() };
    let e = parse_csv(&text, &opts).unwrap_err();
    assert_eq!(e.line, Some(MAX_ROWS + 2), "{e}");
    assert!(e.message.contains("more than 1,000,000 data rows"), "{e}");
    // One row fewer is read in full.
    let cut = text.rsplitn(3, '\n').nth(2).unwrap();
    assert_eq!(parse_csv(cut, &opts).unwrap().len(), MAX_ROWS);
}

#[test]
fn the_reference_data_sets_read_in_full() {
    for name in ["nb_exp", "nb_step"] {
        let text =
            std::fs::read_to_string(format!("{}/assets/data/{name}_train.csv", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let d = parse_csv(&text, &CsvOptions::default()).unwrap();
        assert_eq!(d.len(), text.lines().count() - 1, "{name}");
        assert_eq!((d.x_label.as_str(), d.y_label.as_str()), ("x", "y"));
    }
}
