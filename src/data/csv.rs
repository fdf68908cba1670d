//! Reading (x, y) data from CSV text: delimiter and header sniffing, and errors that name the line.
//!
//! Accepted: comma, semicolon (with decimal commas, `1,5;2,3`), tab or
//! whitespace-delimited columns; a header row or none; a UTF-8 BOM; CRLF or CR line
//! ends; `#` comment lines; quoted fields; blank lines. Nothing is dropped
//! silently: every data row becomes a point, or the file is refused with the
//! line and the reason (text, NaN, Inf, a missing field, a ragged row, ...).

use serde::{Deserialize, Serialize};

use super::Dataset;

/// Largest file accepted by default: 20 MB holds about a million rows, more than a
/// browser tab can plot or a small network can fit interactively.
pub const DEFAULT_MAX_BYTES: usize = 20_000_000;
/// Largest number of data rows accepted (whatever the file size).
pub const MAX_ROWS: usize = 1_000_000;

/// How to read a CSV file into a [`Dataset`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CsvOptions {
    /// The x column by header name, or by 1-based position given as digits ("2").
    /// `None`: the first of two columns.
    pub x_column: Option<String>,
    /// The y column, as `x_column`. `None`: the second of two columns.
    pub y_column: Option<String>,
    /// Files larger than this are refused.
    pub max_bytes: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { x_column: None, y_column: None, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// Why a file could not be read, with the 1-based source line when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    pub line: Option<usize>,
    pub message: String,
}

impl CsvError {
    pub fn new(message: impl Into<String>) -> Self {
        CsvError { line: None, message: message.into() }
    }
    pub fn at(line: usize, message: impl Into<String>) -> Self {
        CsvError { line: Some(line), message: message.into() }
    }
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CsvError {}

/// The numeric columns of a file, before x and y are chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names: from the header, or "column 1", "column 2", ... without one.
    pub headers: Vec<String>,
    pub has_header: bool,
    /// One vector per column, one value per data row.
    pub columns: Vec<Vec<f64>>,
    /// The 1-based source line of each data row.
    pub lines: Vec<usize>,
    /// The first bad cell of each column (text, empty, NaN, Inf), if any. Kept per
    /// column so that a file with a text column can still be used through its
    /// other columns; the value in `columns` at a bad cell is NaN.
    pub errors: Vec<Option<CsvError>>,
}

/// Split `text` into a table of numbers; refuses files over `max_bytes`.
pub fn parse_table(text: &str, max_bytes: usize) -> Result<Table, CsvError> {
    check_size(text.len(), max_bytes)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        return Err(binary_error());
    }
    let lines = source_lines(text);
    let delimiter = sniff_delimiter(&lines);
    let mut builder = TableBuilder::new(delimiter);
    match delimiter {
        Delimiter::Whitespace => {
            for (i, line) in lines.iter().enumerate().filter(|(_, l)| !is_comment(l)) {
                builder.push(i + 1, &split_whitespace_quoted(line))?;
            }
        }
        Delimiter::Byte(b) => {
            // Comment and blank lines become a single space, a record that `push`
            // skips: the reader then counts every line (it does not count a leading
            // empty line), so record positions are the source lines.
            let cleaned: String =
                lines.iter().flat_map(|l| [if is_comment(l) || l.trim().is_empty() { " " } else { l }, "\n"]).collect();
            let mut reader = ::csv::ReaderBuilder::new()
                .delimiter(b)
                .has_headers(false)
                .flexible(true)
                .from_reader(cleaned.as_bytes());
            let mut record = ::csv::StringRecord::new();
            loop {
                match reader.read_record(&mut record) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                        return Err(CsvError::at(line, format!("cannot read the row: {e}")));
                    }
                }
                let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
                let fields: Vec<&str> = record.iter().collect();
                builder.push(line, &fields)?;
            }
        }
    }
    builder.finish()
}

/// Like [`parse_table`] on raw bytes, refusing binary data and text that is not UTF-8.
pub fn parse_table_bytes(bytes: &[u8], max_bytes: usize) -> Result<Table, CsvError> {
    check_size(bytes.len(), max_bytes)?;
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(CsvError::new("the file is UTF-16 text: save it as UTF-8 (or plain CSV) and try again"));
    }
    if bytes.contains(&0) {
        return Err(binary_error());
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_table(text, max_bytes),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            Err(CsvError::at(
                line,
                "the file is not UTF-8 text (is it a spreadsheet or another binary file? export it as CSV)",
            ))
        }
    }
}

/// Read a CSV text into a checked [`Dataset`].
pub fn parse_csv(text: &str, opts: &CsvOptions) -> Result<Dataset, CsvError> {
    let table = parse_table(text, opts.max_bytes)?;
    let data = table.to_dataset(opts.x_column.as_deref(), opts.y_column.as_deref())?;
    data.check()?;
    Ok(data)
}

/// Read a CSV file's bytes into a checked [`Dataset`]; refuses binary and non-UTF-8 data.
pub fn parse_csv_bytes(bytes: &[u8], opts: &CsvOptions) -> Result<Dataset, CsvError> {
    let table = parse_table_bytes(bytes, opts.max_bytes)?;
    let data = table.to_dataset(opts.x_column.as_deref(), opts.y_column.as_deref())?;
    data.check()?;
    Ok(data)
}

/// The x values of a grid file: its first column, read like a data file (any
/// delimiter, decimal commas in semicolon files, header optional, other columns
/// ignored). Every x must be a finite number.
pub fn parse_grid_bytes(bytes: &[u8]) -> Result<Vec<f64>, CsvError> {
    let table = parse_table_bytes(bytes, DEFAULT_MAX_BYTES)?;
    match (table.columns.first(), table.errors.first()) {
        (_, Some(Some(e))) => Err(e.clone()),
        (Some(x), _) if !x.is_empty() => Ok(x.clone()),
        _ => Err(CsvError::new("the grid has no x values")),
    }
}

impl Table {
    /// The columns chosen as x and y (by name, or 1-based position as digits) as a
    /// checked [`Dataset`]. With two columns and no choice, x is the first; with
    /// more, both must be chosen. Axis labels are the header names ("x", "y" without a header).
    pub fn to_dataset(&self, x_column: Option<&str>, y_column: Option<&str>) -> Result<Dataset, CsvError> {
        let n_cols = self.headers.len();
        if n_cols < 2 {
            let name = self.headers.first().map(String::as_str).unwrap_or("");
            return Err(CsvError::new(format!(
                "the file has only one column ({name}); two are needed, x and y (is the delimiter a comma, semicolon, tab or space?)"
            )));
        }
        let (ix, iy) = match (x_column, y_column) {
            (None, None) if n_cols == 2 => (0, 1),
            (Some(x), None) if n_cols == 2 => {
                let ix = self.column_index(x)?;
                (ix, 1 - ix)
            }
            (None, Some(y)) if n_cols == 2 => {
                let iy = self.column_index(y)?;
                (1 - iy, iy)
            }
            (Some(x), Some(y)) => (self.column_index(x)?, self.column_index(y)?),
            _ => {
                return Err(CsvError::new(format!(
                    "the file has {n_cols} columns ({}): choose the x and y columns",
                    self.headers.join(", ")
                )))
            }
        };
        if ix == iy {
            return Err(CsvError::new(format!(
                "x and y are the same column ({}): choose two different columns",
                self.headers[ix]
            )));
        }
        for i in [ix, iy] {
            if let Some(e) = &self.errors[i] {
                return Err(e.clone());
            }
        }
        let (x_label, y_label) = if self.has_header {
            (self.headers[ix].clone(), self.headers[iy].clone())
        } else {
            ("x".into(), "y".into())
        };
        let data = Dataset { x_label, y_label, ..Dataset::new(self.columns[ix].clone(), self.columns[iy].clone()) };
        data.check()?;
        Ok(data)
    }

    /// A value of `data` (read from this table) far outside the others, as an error
    /// naming its source line: such data are read but cannot be fitted.
    pub fn outlier(&self, data: &Dataset) -> Option<CsvError> {
        let o = data.outlier()?;
        Some(CsvError::at(self.lines.get(o.index).copied().unwrap_or(o.index + 1), o.describe(data)))
    }

    /// A column by exact header name, then by case-insensitive name, then by 1-based position.
    fn column_index(&self, choice: &str) -> Result<usize, CsvError> {
        let choice = choice.trim();
        for same in [|a: &str, b: &str| a == b, |a: &str, b: &str| a.eq_ignore_ascii_case(b)] {
            let hits: Vec<usize> = (0..self.headers.len()).filter(|&i| same(&self.headers[i], choice)).collect();
            match hits.len() {
                0 => {}
                1 => return Ok(hits[0]),
                _ => {
                    return Err(CsvError::new(format!(
                        "{} columns are named '{choice}': choose one by its position (1 to {})",
                        hits.len(),
                        self.headers.len()
                    )))
                }
            }
        }
        if !choice.is_empty() && choice.bytes().all(|b| b.is_ascii_digit()) {
            return match choice.parse::<usize>() {
                Ok(k) if (1..=self.headers.len()).contains(&k) => Ok(k - 1),
                _ => Err(CsvError::new(format!(
                    "there is no column {choice}: the file has {} columns ({})",
                    self.headers.len(),
                    self.headers.join(", ")
                ))),
            };
        }
        Err(CsvError::new(format!("there is no column named '{choice}': the columns are {}", self.headers.join(", "))))
    }
}

fn check_size(len: usize, max_bytes: usize) -> Result<(), CsvError> {
    if len > max_bytes {
        return Err(CsvError::new(format!(
            "the file is {}; the limit is {}",
            format_size(len),
            format_size(max_bytes)
        )));
    }
    Ok(())
}

/// "52.3 MB", "20 MB", "4.1 kB", "100 bytes" (decimal units, as file browsers show them).
fn format_size(bytes: usize) -> String {
    let b = bytes as f64;
    let (v, unit) = if b >= 1e6 {
        (b / 1e6, "MB")
    } else if b >= 1e3 {
        (b / 1e3, "kB")
    } else {
        return format!("{bytes} bytes");
    };
    let s = format!("{v:.1}");
    format!("{} {unit}", s.strip_suffix(".0").unwrap_or(&s))
}

fn binary_error() -> CsvError {
    CsvError::new("the file looks binary (it contains NUL bytes), not CSV text: export it as CSV and try again")
}

/// The lines of `text` without their line ends: `\n`, `\r\n`, or old Mac `\r`.
fn source_lines(text: &str) -> Vec<&str> {
    if !text.contains('\n') && text.contains('\r') {
        return text.split('\r').collect();
    }
    text.lines().collect()
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delimiter {
    Byte(u8),
    /// Runs of spaces and tabs (as written by `numpy.savetxt` or aligned tables).
    Whitespace,
}

/// Choose the delimiter that splits the most data lines (the first non-comment
/// lines after the first one, which may be a header) into two or more fields;
/// ties go to tab, then semicolon, then comma, then whitespace, so that
/// `1,5;2,3` reads as semicolon-delimited with decimal commas.
fn sniff_delimiter(lines: &[&str]) -> Delimiter {
    const SAMPLE: usize = 50;
    let sample: Vec<&str> =
        lines.iter().copied().filter(|l| !l.trim().is_empty() && !is_comment(l)).take(SAMPLE).collect();
    let candidates = [Delimiter::Byte(b'\t'), Delimiter::Byte(b';'), Delimiter::Byte(b','), Delimiter::Whitespace];
    let splits = |d: Delimiter, line: &str| -> bool {
        match d {
            Delimiter::Byte(b) => count_unquoted(line, b as char) > 0,
            Delimiter::Whitespace => split_whitespace_quoted(line).len() > 1,
        }
    };
    let data = if sample.len() > 1 { &sample[1..] } else { &sample[..] };
    let score = |d: Delimiter| -> (usize, bool) {
        (data.iter().filter(|l| splits(d, l)).count(), sample.first().is_some_and(|l| splits(d, l)))
    };
    let mut best = (Delimiter::Byte(b','), (0, false));
    for d in candidates {
        let s = score(d);
        if s > best.1 {
            best = (d, s);
        }
    }
    // With no line of data split, the file has one column: say so, rather than
    // splitting a header like "time (s)" on its space.
    if best.1 .0 == 0 {
        return Delimiter::Byte(b',');
    }
    best.0
}

/// Occurrences of `c` outside double quotes.
fn count_unquoted(line: &str, c: char) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for ch in line.chars() {
        if ch == '"' {
            quoted = !quoted;
        } else if ch == c && !quoted {
            n += 1;
        }
    }
    n
}

/// Fields separated by runs of whitespace; double quotes group (and are removed).
fn split_whitespace_quoted(line: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('"') {
            let end = inner.find('"').unwrap_or(inner.len());
            fields.push(&inner[..end]);
            rest = inner[(end + 1).min(inner.len())..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            fields.push(&rest[..end]);
            rest = rest[end..].trim_start();
        }
    }
    fields
}

/// What a cell holds once read as a number.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell {
    Number(f64),
    Empty,
    Text,
    NaN,
    Inf,
    /// Digits too large for f64 (e.g. 1e400), which Rust would read as infinity.
    Overflow,
}

/// Read one cell. With a delimiter other than comma, a single comma and no point is
/// a decimal comma (European spreadsheets: `1,5;2,3`).
fn read_cell(field: &str, decimal_comma: bool) -> Cell {
    let s = field.trim();
    if s.is_empty() {
        return Cell::Empty;
    }
    let owned;
    let s = if decimal_comma && s.matches(',').count() == 1 && !s.contains('.') {
        owned = s.replace(',', ".");
        owned.as_str()
    } else {
        s
    };
    match s.parse::<f64>() {
        Ok(v) if v.is_nan() => Cell::NaN,
        Ok(v) if v.is_infinite() => {
            let word = s.trim_start_matches(['+', '-']).to_ascii_lowercase();
            if word.starts_with("inf") {
                Cell::Inf
            } else {
                Cell::Overflow
            }
        }
        Ok(v) => Cell::Number(v),
        Err(_) => Cell::Text,
    }
}

/// Accumulates rows into columns, deciding on the header at the first row.
struct TableBuilder {
    decimal_comma: bool,
    /// Set at the first row: the column names and whether that row was a header.
    headers: Option<(Vec<String>, bool)>,
    columns: Vec<Vec<f64>>,
    lines: Vec<usize>,
    errors: Vec<Option<CsvError>>,
}

impl TableBuilder {
    fn new(delimiter: Delimiter) -> Self {
        TableBuilder {
            decimal_comma: delimiter != Delimiter::Byte(b','),
            headers: None,
            columns: Vec::new(),
            lines: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn push(&mut self, line: usize, fields: &[&str]) -> Result<(), CsvError> {
        if fields.iter().all(|f| f.trim().is_empty()) {
            return Ok(()); // a blank line
        }
        let expected = match &self.headers {
            Some((names, _)) => names.len(),
            None => {
                let fields = drop_trailing_empty(fields, None);
                let is_header = fields.iter().any(|f| read_cell(f, self.decimal_comma) == Cell::Text);
                let names = (0..fields.len())
                    .map(|i| match fields[i].trim() {
                        name if is_header && !name.is_empty() => name.to_string(),
                        _ => format!("column {}", i + 1),
                    })
                    .collect::<Vec<_>>();
                self.columns = vec![Vec::new(); names.len()];
                self.errors = vec![None; names.len()];
                self.headers = Some((names, is_header));
                if is_header {
                    return Ok(());
                }
                fields.len()
            }
        };
        let fields = drop_trailing_empty(fields, Some(expected));
        if fields.len() != expected {
            let (_, is_header) = self.headers.as_ref().expect("set above");
            let plural = |n: usize| if n == 1 { "field" } else { "fields" };
            return Err(CsvError::at(
                line,
                format!(
                    "found {} {} but expected {expected} {} like the {} (a missing or extra field?)",
                    fields.len(),
                    plural(fields.len()),
                    plural(expected),
                    if *is_header { "header" } else { "first row" }
                ),
            ));
        }
        if self.lines.len() == MAX_ROWS {
            return Err(CsvError::at(line, "the file has more than 1,000,000 data rows, the most BayesBand reads"));
        }
        self.lines.push(line);
        let (names, has_header) = self.headers.as_ref().expect("set above");
        for (i, field) in fields.iter().enumerate() {
            let value = match read_cell(field, self.decimal_comma) {
                Cell::Number(v) => v,
                bad => {
                    if self.errors[i].is_none() {
                        self.errors[i] = Some(CsvError::at(
                            line,
                            cell_message(bad, field.trim(), &column_ref(&names[i], *has_header)),
                        ));
                    }
                    f64::NAN
                }
            };
            self.columns[i].push(value);
        }
        Ok(())
    }

    fn finish(self) -> Result<Table, CsvError> {
        let Some((headers, has_header)) = self.headers else {
            return Err(CsvError::new("the file is empty: no data rows were found"));
        };
        if self.lines.is_empty() {
            return Err(CsvError::new(format!("the file has a header ({}) but no data rows", headers.join(", "))));
        }
        Ok(Table { headers, has_header, columns: self.columns, lines: self.lines, errors: self.errors })
    }
}

/// A trailing delimiter (`1,2,`) leaves an empty last field: drop it when the row
/// then has the expected width (or, on the first row, whenever it is empty).
fn drop_trailing_empty<'a, 'b>(fields: &'b [&'a str], expected: Option<usize>) -> &'b [&'a str] {
    let trailing_empty = fields.len() > 1 && fields.last().is_some_and(|f| f.trim().is_empty());
    match expected {
        _ if !trailing_empty => fields,
        Some(n) if fields.len() != n + 1 => fields,
        _ => &fields[..fields.len() - 1],
    }
}

/// "column y" for a named column, "column 2" for a generated name.
fn column_ref(name: &str, has_header: bool) -> String {
    if has_header {
        format!("column {name}")
    } else {
        name.to_string()
    }
}

fn cell_message(cell: Cell, text: &str, column: &str) -> String {
    match cell {
        Cell::Empty => format!("the value in {column} is missing (empty field); remove the row or fill it in"),
        Cell::Text => format!("'{text}' is not a number ({column})"),
        Cell::NaN => format!("NaN is not allowed ({column}); remove the row or fill in the value"),
        Cell::Inf => format!("Inf is not allowed ({column}); only finite numbers can be fitted"),
        Cell::Overflow => format!("'{text}' is too large for a 64-bit float ({column})"),
        Cell::Number(_) => unreachable!("numbers are not errors"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_delimiter() {
        assert_eq!(sniff_delimiter(&["x,y", "1,2"]), Delimiter::Byte(b','));
        assert_eq!(sniff_delimiter(&["x;y", "1,5;2,3"]), Delimiter::Byte(b';'));
        assert_eq!(sniff_delimiter(&["1,5;2,3", "1,0;2,0"]), Delimiter::Byte(b';'));
        assert_eq!(sniff_delimiter(&["x\ty", "1.5\t2"]), Delimiter::Byte(b'\t'));
        assert_eq!(sniff_delimiter(&["  x   y", "  1.5  2"]), Delimiter::Whitespace);
        assert_eq!(sniff_delimiter(&["time (s)", "1", "2"]), Delimiter::Byte(b','));
        assert_eq!(sniff_delimiter(&["# a, b; c", "1 2", "3 4"]), Delimiter::Whitespace);
        assert_eq!(sniff_delimiter(&["\"a,b\";c", "1;2"]), Delimiter::Byte(b';'));
    }

    #[test]
    fn cells_are_classified() {
        assert_eq!(read_cell(" 1.5 ", false), Cell::Number(1.5));
        assert_eq!(read_cell("1,5", true), Cell::Number(1.5));
        assert_eq!(read_cell("1,5", false), Cell::Text);
        assert_eq!(read_cell("1,000.5", true), Cell::Text);
        assert_eq!(read_cell("-2.5e-3", false), Cell::Number(-2.5e-3));
        assert_eq!(read_cell("", false), Cell::Empty);
        assert_eq!(read_cell("nan", false), Cell::NaN);
        assert_eq!(read_cell("-Infinity", false), Cell::Inf);
        assert_eq!(read_cell("1e400", false), Cell::Overflow);
        assert_eq!(read_cell("abc", false), Cell::Text);
    }

    #[test]
    fn whitespace_splitting_honours_quotes() {
        assert_eq!(split_whitespace_quoted("  1  \t 2 "), vec!["1", "2"]);
        assert_eq!(split_whitespace_quoted("\"my x\" \"y\""), vec!["my x", "y"]);
        assert_eq!(split_whitespace_quoted("\"open"), vec!["open"]);
    }

    #[test]
    fn sizes_read_like_a_file_browser() {
        assert_eq!(format_size(52_300_000), "52.3 MB");
        assert_eq!(format_size(20_000_000), "20 MB");
        assert_eq!(format_size(4_130), "4.1 kB");
        assert_eq!(format_size(99), "99 bytes");
    }

    #[test]
    fn line_numbers_count_comments_blank_lines_and_crlf() {
        let t = parse_table("# data\r\nx,y\r\n\r\n1,2\r\n# mid\r\n3,4\r\n", 1000).unwrap();
        assert_eq!(t.lines, vec![4, 6]);
        let t = parse_table("x y\n# c\n1 2\n\n3 4\n", 1000).unwrap();
        assert_eq!(t.lines, vec![3, 5]);
        let t = parse_table("x,y\r1,2\r3,4\r", 1000).unwrap();
        assert_eq!(t.lines, vec![2, 3]);
    }

    #[test]
    fn a_text_column_only_fails_when_chosen() {
        let t = parse_table("t,v,flag\n1,2,ok\n2,3,bad\n3,5,ok\n", 1000).unwrap();
        let d = t.to_dataset(Some("t"), Some("v")).unwrap();
        assert_eq!(d.y, vec![2.0, 3.0, 5.0]);
        let e = t.to_dataset(Some("t"), Some("flag")).unwrap_err();
        assert_eq!(e.to_string(), "line 2: 'ok' is not a number (column flag)");
    }

    #[test]
    fn trailing_delimiters_are_not_an_extra_column() {
        let t = parse_table("x,y,\n1,2,\n3,4,\n5,6,\n", 1000).unwrap();
        assert_eq!(t.headers, vec!["x", "y"]);
        let e = parse_table("x,y\n1,\n3,4\n", 1000).unwrap().to_dataset(None, None).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("missing"), "{e}");
    }

    #[test]
    fn a_broken_utf8_byte_is_reported_with_its_line() {
        let e = parse_table_bytes(b"x,y\n1,2\n3,\xff\n", 1000).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("not UTF-8"));
        let e = parse_table_bytes(b"\xff\xfex\x00,\x00", 1000).unwrap_err();
        assert!(e.message.contains("UTF-16"));
    }
}
