//! CSV output: RFC 4180, UTF-8, a fixed documented column order, and cells that spreadsheets
//! cannot mistake for formulas.

use crate::error::AppError;

/// One CSV cell. Text cells are guarded against spreadsheet formula injection; numbers are not
/// (a negative number is not a formula).
pub enum Cell {
    Text(String),
    Number(String),
    Empty,
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Self {
        Cell::Text(value.into())
    }

    pub fn opt_text(value: Option<impl Into<String>>) -> Self {
        value.map_or(Cell::Empty, |v| Cell::Text(v.into()))
    }

    pub fn number(value: impl ToString) -> Self {
        Cell::Number(value.to_string())
    }

    pub fn opt_number(value: Option<impl ToString>) -> Self {
        value.map_or(Cell::Empty, |v| Cell::Number(v.to_string()))
    }
}

/// Prefixes a text that a spreadsheet would evaluate (`= + - @`, tab, carriage return) with an
/// apostrophe, the convention Excel and LibreOffice show as a literal.
pub fn neutralise_formula(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// Writes a header and rows into a CSV document.
pub fn write(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> Result<Vec<u8>, AppError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let internal = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    writer.write_record(header).map_err(internal)?;
    for row in rows {
        debug_assert_eq!(
            row.len(),
            header.len(),
            "CSV row width must match its header"
        );
        let cells: Vec<std::borrow::Cow<'_, str>> = row
            .iter()
            .map(|cell| match cell {
                Cell::Text(t) => neutralise_formula(t),
                Cell::Number(n) => n.as_str().into(),
                Cell::Empty => "".into(),
            })
            .collect();
        writer
            .write_record(cells.iter().map(|c| c.as_bytes()))
            .map_err(internal)?;
    }
    writer
        .into_inner()
        .map_err(|e| AppError::Internal(format!("csv: {e}")))
}

/// Joins list values into one cell (documented separator: `; `).
pub fn join(values: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    values
        .into_iter()
        .map(|v| v.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_formulas_but_not_numbers() {
        let out = write(
            &["a", "b", "c"],
            vec![vec![
                Cell::text("=SUM(A1)"),
                Cell::number(-5),
                Cell::text("plain, \"quoted\""),
            ]],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,b,c\r\n'=SUM(A1),-5,\"plain, \"\"quoted\"\"\"\r\n"
        );
    }
}
