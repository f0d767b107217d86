//! CSV as spreadsheets write it (RFC 4180): fields separated by commas (or semicolons, as some
//! spreadsheets do in Europe), quoted with `"` when they hold a separator, a quote or a line
//! break. Written back, a cell that a spreadsheet would run as a formula is neutralised.

/// Fields a row may have at most (a file of separators alone stays small in memory).
pub const MAX_FIELDS: usize = 64;

/// Why a text is not CSV, with the (1-based) line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    /// A quoted field starts here and never ends.
    Quote(usize),
    /// A row with more than [`MAX_FIELDS`] fields.
    Wide(usize),
}

/// The rows of a CSV text, each with the line it starts on.
pub fn parse(text: &str) -> Result<Vec<(usize, Vec<String>)>, Bad> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or("");
    let sep = if first.matches(';').count() > first.matches(',').count() {
        ';'
    } else {
        ','
    };
    let (mut rows, mut row, mut field) = (vec![], vec![], String::new());
    let (mut quoted, mut line, mut start_line, mut start_row) = (false, 1, 1, 1);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                start_line = line;
            }
            c if c == sep => {
                row.push(std::mem::take(&mut field));
                if row.len() > MAX_FIELDS {
                    return Err(Bad::Wide(start_row));
                }
            }
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push((start_row, std::mem::take(&mut row)));
                line += 1;
                start_row = line;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(Bad::Quote(start_line));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        if row.len() > MAX_FIELDS {
            return Err(Bad::Wide(start_row));
        }
        rows.push((start_row, row));
    }
    // Blank lines count for nothing.
    rows.retain(|(_, r)| r.iter().any(|f| !f.trim().is_empty()));
    Ok(rows)
}

/// A cell a spreadsheet would run as a formula gets a leading `'`; a number such as
/// `+46701234567` stays as it is.
fn neutral(cell: &str) -> String {
    let number = cell
        .strip_prefix('+')
        .or_else(|| cell.strip_prefix('-'))
        .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit() || c == ' '));
    match cell.chars().next() {
        Some('=' | '@' | '\t' | '\r') => format!("'{cell}"),
        Some('+' | '-') if !number => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// Rows as CSV text (CRLF line ends, every field quoted when it needs it).
pub fn write(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                let c = neutral(c);
                if c.contains([',', ';', '"', '\n', '\r']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c
                }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quotes_separators_and_line_breaks() {
        let text = "name,notes\r\n\"Doe, Jane\",\"said \"\"hi\"\"\nthen left\"\r\n\r\nBo,\n";
        assert_eq!(
            parse(text).unwrap(),
            vec![
                (1, vec!["name".to_string(), "notes".into()]),
                (2, vec!["Doe, Jane".into(), "said \"hi\"\nthen left".into()]),
                (5, vec!["Bo".into(), "".into()]),
            ]
        );
        assert_eq!(parse("a;b\n1;2").unwrap()[1].1, vec!["1", "2"]);
        assert_eq!(parse("a,b\n\"open,\n2").unwrap_err(), Bad::Quote(2));
        assert_eq!(parse(&",".repeat(100)).unwrap_err(), Bad::Wide(1));
    }

    #[test]
    fn writes_what_it_reads_and_neutralises_formulas() {
        let rows = vec![
            vec![
                "Doe, Jane".to_string(),
                "+46701234567".into(),
                "=1+2".into(),
            ],
            vec!["@SUM(A1)".into(), "-x".into(), "line\nbreak".into()],
        ];
        let text = write(&rows);
        assert_eq!(
            text,
            "\"Doe, Jane\",+46701234567,'=1+2\r\n'@SUM(A1),'-x,\"line\nbreak\"\r\n"
        );
        assert_eq!(parse(&text).unwrap()[0].1[0], "Doe, Jane");
    }
}
