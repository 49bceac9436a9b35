//! CSV for people who open it in a spreadsheet: written by the `csv` crate with every cell
//! quoted, and any cell a spreadsheet would run as a formula defused first.

use std::borrow::Cow;

/// A cell that starts like a formula (`=`, `+`, `-`, `@`, or a tab or carriage return that
/// some spreadsheets skip before one: OWASP's CSV injection list) gets a leading apostrophe,
/// so it shows as text. A plain number keeps its sign: `+84912345678` (a phone number) and
/// `-5000` (an amount) are data, not formulas.
pub fn defuse_formula(cell: &str) -> Cow<'_, str> {
    let starts_like_formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let signed_number = cell.len() > 1
        && cell.starts_with(['+', '-'])
        && cell[1..].chars().all(|c| c.is_ascii_digit() || c == '.');
    if starts_like_formula && !signed_number {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `rows` as CSV lines, every cell quoted and defused.
pub fn lines<R, C, S>(rows: R) -> String
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    for row in rows {
        // Writing to memory cannot fail.
        let _ = writer.write_record(
            row.into_iter()
                .map(|c| defuse_formula(c.as_ref()).into_owned()),
        );
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let line = |cell: &str| lines([[cell]]);
        assert_eq!(line("a\"b"), "\"a\"\"b\"\n");
        assert_eq!(line("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"\n");
        assert_eq!(line("+cmd|' /C calc'!A0"), "\"'+cmd|' /C calc'!A0\"\n");
        assert_eq!(line("@SUM(A1)"), "\"'@SUM(A1)\"\n");
        assert_eq!(line("\t=1"), "\"'\t=1\"\n");
        assert_eq!(line("+84912345678"), "\"+84912345678\"\n");
        assert_eq!(line("-5000"), "\"-5000\"\n");
        assert_eq!(line("-"), "\"'-\"\n");
    }
}
