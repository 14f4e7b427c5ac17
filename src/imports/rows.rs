//! An import's body as rows: each row is the JSON of an event form (or part of one) with the
//! line it came from, or the errors that kept it from being read. The file as a whole is
//! refused (a problem) only when no row can be told from the next: JSON that does not parse,
//! a quote never closed, an unknown column.
//!
//! CSV is read as spreadsheets in France write it: `;` or `,` (detected), UTF-8 with or without
//! a byte order mark, or Windows-1252 (Excel's "CSV" on Windows), detected and converted.

use std::io::Cursor;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::model::{ImportFormat, RowError};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::events::sheet::{self, CellError, Header};
use crate::http::language::Lang;

/// One row of the file.
#[derive(Debug)]
pub struct InputRow {
    pub line: usize,
    /// The event named by id (an exported row), if any.
    pub id: Option<Uuid>,
    /// Event form fields; `null` clears a field of an existing event.
    pub fields: Map<String, Value>,
    /// Why the row could not be read (then it is not applied).
    pub errors: Vec<RowError>,
}

impl InputRow {
    pub fn external_id(&self) -> Option<String> {
        self.fields.get("external_id").and_then(Value::as_str).map(|id| id.trim().replace('\0', "\u{FFFD}"))
    }
}

/// The rows of a file, with what was noticed about it.
pub struct Parsed {
    pub rows: Vec<InputRow>,
    /// The columns (CSV and XLSX), to name the column of an error found later.
    pub header: Option<Header>,
    pub encoding: &'static str,
    pub notes: Vec<String>,
}

/// Keys that exports write and imports do not take as fields: `id` finds the event.
const READ_ONLY_KEYS: [&str; 3] = ["id", "slug", "publication"];

pub fn parse(bytes: &[u8], format: ImportFormat, lang: Lang, max_rows: usize) -> ApiResult<Parsed> {
    let parsed = match format {
        ImportFormat::Json => json_array(utf8(bytes)?, lang)?,
        ImportFormat::Ndjson => ndjson(utf8(bytes)?, lang),
        ImportFormat::Csv => csv_rows(bytes, lang)?,
        ImportFormat::Xlsx => xlsx_rows(bytes, lang, max_rows)?,
    };
    if parsed.rows.len() > max_rows {
        return Err(ApiError::TooManyRows(max_rows));
    }
    let mut parsed = parsed;
    for row in &mut parsed.rows {
        refuse_nul(row, lang);
    }
    Ok(parsed)
}

/// PostgreSQL cannot store a NUL character: a row holding one (JSON's `\u0000`, a raw byte in
/// a CSV, Excel's `_x0000_`) is refused by its own report, before anything reads it.
fn refuse_nul(row: &mut InputRow, lang: Lang) {
    fn path_with_nul(value: &Value, path: String) -> Option<String> {
        match value {
            Value::String(text) if text.contains('\0') => Some(path),
            Value::Array(items) => {
                items.iter().enumerate().find_map(|(i, item)| path_with_nul(item, format!("{path}[{i}]")))
            }
            Value::Object(map) => map.iter().find_map(|(key, item)| {
                let inner = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                if key.contains('\0') { Some(inner) } else { path_with_nul(item, inner) }
            }),
            _ => None,
        }
    }
    let Some(field) = path_with_nul(&Value::Object(row.fields.clone()), String::new()) else { return };
    let message = lang.pick("contains a NUL character".into(), "contient un caractère NUL".into());
    row.errors.push(row_error(lang, row.line, Place::Field(&field), &field, "nul_character", &message));
    row.fields = Map::new();
}

fn utf8(bytes: &[u8]) -> ApiResult<&str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|error| ApiError::BadRequest {
        detail: format!("JSON must be UTF-8: {error}"),
        errors: vec![FieldError::new("body", "not_utf8", "JSON must be UTF-8")],
    })
}

/// A row error's message names its place: "line 14, column date_debut: …".
fn placed(lang: Lang, line: usize, place: Place, message: &str) -> String {
    match (lang, place) {
        (Lang::En, Place::Column(name)) => format!("line {line}, column {name}: {message}"),
        (Lang::Fr, Place::Column(name)) => format!("ligne {line}, colonne {name} : {message}"),
        (Lang::En, Place::Field(name)) => format!("line {line}, field {name}: {message}"),
        (Lang::Fr, Place::Field(name)) => format!("ligne {line}, champ {name} : {message}"),
        (Lang::En, Place::Row) => format!("line {line}: {message}"),
        (Lang::Fr, Place::Row) => format!("ligne {line} : {message}"),
    }
}

/// Where in a row a problem is.
pub enum Place<'a> {
    Column(&'a str),
    Field(&'a str),
    Row,
}

/// A row error at `place`.
pub fn row_error(lang: Lang, line: usize, place: Place, field: &str, code: &str, message: &str) -> RowError {
    let column = match place {
        Place::Column(name) => Some(name.to_string()),
        _ => None,
    };
    let clean = |text: &str| text.replace('\0', "\u{FFFD}");
    RowError {
        field: clean(field),
        column: column.map(|c| clean(&c)),
        code: code.into(),
        message: clean(&placed(lang, line, place, message)),
    }
}

fn from_object(line: usize, value: Value, lang: Lang) -> InputRow {
    let mut row = InputRow { line, id: None, fields: Map::new(), errors: Vec::new() };
    let Value::Object(mut fields) = value else {
        let message = lang.pick("is not a JSON object (an event form)".into(), "n'est pas un objet JSON".into());
        row.errors.push(row_error(lang, line, Place::Row, "", "not_an_object", &message));
        return row;
    };
    if let Some(id) = fields.get("id").filter(|id| !id.is_null()) {
        match id.as_str().and_then(|id| Uuid::parse_str(id).ok()) {
            Some(id) => row.id = Some(id),
            None => {
                let message = lang.pick("is not an event id".into(), "n'est pas un identifiant d'événement".into());
                row.errors.push(row_error(lang, line, Place::Field("id"), "id", "invalid_id", &message));
            }
        }
    }
    for key in READ_ONLY_KEYS {
        fields.remove(key);
    }
    row.fields = fields;
    row
}

fn json_array(text: &str, lang: Lang) -> ApiResult<Parsed> {
    let items: Vec<Value> = serde_json::from_str(text).map_err(|error| ApiError::BadRequest {
        detail: format!(
            "the body is not a JSON array of events (line {}, column {}): {error}",
            error.line(),
            error.column()
        ),
        errors: vec![FieldError::new("body", "malformed_json", error.to_string())],
    })?;
    let rows = items.into_iter().enumerate().map(|(index, item)| from_object(index + 1, item, lang)).collect();
    Ok(Parsed { rows, header: None, encoding: "utf-8", notes: Vec::new() })
}

fn ndjson(text: &str, lang: Lang) -> Parsed {
    let rows = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| match serde_json::from_str::<Value>(line) {
            Ok(value) => from_object(index + 1, value, lang),
            Err(error) => {
                let message = lang.pick(format!("is not JSON: {error}"), format!("n'est pas du JSON : {error}"));
                InputRow {
                    line: index + 1,
                    id: None,
                    fields: Map::new(),
                    errors: vec![row_error(lang, index + 1, Place::Row, "", "malformed_json", &message)],
                }
            }
        })
        .collect();
    Parsed { rows, header: None, encoding: "utf-8", notes: Vec::new() }
}

/// The text of a CSV file: UTF-8 (its byte order mark dropped), else Windows-1252, converted.
/// A file that is UTF-8 but for a stray byte is refused at that byte's line: read as
/// Windows-1252, every accented letter in it would be saved garbled.
fn decode(bytes: &[u8], lang: Lang) -> ApiResult<(String, &'static str)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_string(), "utf-8")),
        Err(error) => {
            let valid = bytes.get(..error.valid_up_to()).unwrap_or_default();
            let utf8_letters = String::from_utf8_lossy(bytes).chars().any(|c| !c.is_ascii() && c != '\u{FFFD}');
            if utf8_letters {
                let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
                let detail = lang.pick(
                    format!("line {line}: a byte that is not UTF-8, in a file that is otherwise UTF-8; save the file as UTF-8 again"),
                    format!("ligne {line} : un octet qui n'est pas de l'UTF-8, dans un fichier en UTF-8 ; enregistrez à nouveau le fichier en UTF-8"),
                );
                return Err(ApiError::BadRequest {
                    errors: vec![FieldError::new(format!("line {line}"), "not_utf8", detail.clone())],
                    detail,
                });
            }
            // Not UTF-8: what Excel on Windows writes for "CSV (separator: semicolon)". Every
            // byte is a character in Windows-1252, so the conversion never fails.
            Ok((encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(), "windows-1252"))
        }
    }
}

/// `;` or `,`, whichever the header line has more of outside quotes (`,` on a tie); a tab
/// when it has neither.
fn delimiter(text: &str) -> u8 {
    let first = text.split(['\r', '\n']).next().unwrap_or_default();
    let (mut quoted, mut semicolons, mut commas, mut tabs) = (false, 0, 0, 0);
    for c in first.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => semicolons += 1,
            ',' if !quoted => commas += 1,
            '\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if semicolons > commas {
        b';'
    } else if commas == 0 && tabs > 0 {
        b'\t'
    } else {
        b','
    }
}

/// The line where a quoted field opens and never closes, if one does: past it, a CSV reader
/// would take the rest of the file as one cell.
fn unclosed_quote(text: &str, delimiter: u8) -> Option<usize> {
    let (mut quoted, mut opened_at, mut line, mut at_field_start) = (false, 0, 1, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next(); // an escaped quote
            }
            '"' if quoted => quoted = false,
            '"' if at_field_start => {
                quoted = true;
                opened_at = line;
            }
            '\n' => line += 1,
            // A lone carriage return ends a line too (Excel's "CSV Macintosh").
            '\r' if chars.peek() != Some(&'\n') => line += 1,
            _ => {}
        }
        at_field_start = !quoted && (c == char::from(delimiter) || c == '\n' || c == '\r');
    }
    quoted.then_some(opened_at)
}

fn csv_rows(bytes: &[u8], lang: Lang) -> ApiResult<Parsed> {
    let (text, encoding) = decode(bytes, lang)?;
    let delimiter = delimiter(&text);
    if let Some(line) = unclosed_quote(&text, delimiter) {
        let detail = lang.pick(
            format!("line {line}: a quoted field opens here and is never closed; the file cannot be read past it"),
            format!("ligne {line} : un champ entre guillemets s'ouvre ici et ne se ferme jamais ; la suite du fichier ne peut pas être lue"),
        );
        return Err(ApiError::BadRequest {
            errors: vec![FieldError::new(format!("line {line}"), "unclosed_quote", detail.clone())],
            detail,
        });
    }
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let names: Vec<String> = match records.next() {
        Some(Ok(record)) => record.iter().map(str::to_string).collect(),
        Some(Err(error)) => return Err(unreadable_csv(error)),
        None => Vec::new(),
    };
    let header = Header::read(&names, lang).map_err(column_problem)?;
    let mut rows = Vec::new();
    let mut lines = LineCounter::new(&text);
    for record in records {
        let record = record.map_err(unreadable_csv)?;
        let line = lines.line_at(record.position().map_or(0, |p| p.byte() as usize));
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        if let Some(row) = sheet_row(&header, &names, line, cells, lang) {
            rows.push(row);
        }
    }
    let mut notes = Vec::new();
    if encoding == "windows-1252" {
        notes.push(lang.pick(
            "the file is not UTF-8: it was read as Windows-1252 (what Excel writes on Windows) and converted".into(),
            "le fichier n'est pas en UTF-8 : il a été lu en Windows-1252 (ce qu'écrit Excel sous Windows) et converti"
                .into(),
        ));
    }
    let delimiter_name = match delimiter {
        b';' => "`;`",
        b'\t' => "tab",
        _ => "`,`",
    };
    notes.push(
        lang.pick(format!("columns separated by {delimiter_name}"), format!("colonnes séparées par {delimiter_name}")),
    );
    Ok(Parsed { rows, header: Some(header), encoding, notes })
}

/// Line numbers of byte offsets, counted forwards once over the file.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter { text: text.as_bytes(), offset: 0, line: 1 }
    }

    /// The line where the record at `offset` starts. The reader may note a record's offset
    /// before the line breaks that end the record before it: those are skipped.
    fn line_at(&mut self, offset: usize) -> usize {
        let mut start = offset;
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > self.offset {
            let end = start.min(self.text.len());
            let skipped = self.text.get(self.offset..end).unwrap_or_default();
            // `\n`, and a `\r` not followed by `\n` (a lone carriage return ends a line too).
            let next = |i: usize| self.text.get(self.offset + i + 1);
            let breaks = skipped
                .iter()
                .enumerate()
                .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && next(*i) != Some(&b'\n')))
                .count();
            self.line += breaks;
            self.offset = end;
        }
        self.line
    }
}

/// A row of cells read against the header; `None` for a row with every cell empty (spreadsheets
/// leave such rows at the end).
fn sheet_row(header: &Header, names: &[String], line: usize, cells: Vec<String>, lang: Lang) -> Option<InputRow> {
    if cells.iter().all(|cell| cell.trim().is_empty()) {
        return None;
    }
    let mut row = InputRow { line, id: None, fields: Map::new(), errors: Vec::new() };
    if cells.len() > names.len() && cells.iter().skip(names.len()).any(|cell| !cell.trim().is_empty()) {
        let message = lang.pick(
            format!("has {} cells, but the header names {} columns", cells.len(), names.len()),
            format!("compte {} cellules, mais l'en-tête nomme {} colonnes", cells.len(), names.len()),
        );
        row.errors.push(row_error(lang, line, Place::Row, "", "extra_cells", &message));
        return Some(row);
    }
    match sheet::read_row(header, &cells, lang) {
        Ok(input) => {
            row.id = input.id;
            row.fields = input.fields;
        }
        Err(errors) => row.errors = errors.into_iter().map(|error| cell_error(lang, line, error)).collect(),
    }
    Some(row)
}

fn cell_error(lang: Lang, line: usize, error: CellError) -> RowError {
    row_error(lang, line, Place::Column(&error.column), &error.field, error.code, &error.message)
}

fn unreadable_csv(error: csv::Error) -> ApiError {
    let line = error.position().map_or(0, |p| p.line());
    ApiError::BadRequest {
        detail: format!("the CSV cannot be read at line {line}: {error}"),
        errors: vec![FieldError::new(format!("line {line}"), "malformed_csv", error.to_string())],
    }
}

/// Unknown or repeated columns: the file is refused, naming each (a `422`).
fn column_problem(errors: Vec<CellError>) -> ApiError {
    ApiError::Validation(
        errors.into_iter().map(|error| FieldError::new(error.column, error.code, error.message)).collect(),
    )
}

/// Columns a workbook's rows may spread over: the event columns, with room to spare.
const MAX_XLSX_COLUMNS: u32 = 256;

/// The first sheet of a workbook, read as a CSV would be: its first row names the columns.
/// Cells are read one by one and refused past the row and column limits, so that a sheet that
/// claims a million rows (or a cell at the far corner) cannot make the service build it.
fn xlsx_rows(bytes: &[u8], lang: Lang, max_rows: usize) -> ApiResult<Parsed> {
    use std::collections::BTreeMap;

    use calamine::{DataRef, Reader, Xlsx};
    let unreadable = |error: String| ApiError::BadRequest {
        detail: format!("the workbook cannot be read: {error}"),
        errors: vec![FieldError::new("body", "malformed_xlsx", error)],
    };
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let Some(first) = workbook.sheet_names().first().cloned() else {
        return Err(unreadable("it has no sheet".into()));
    };
    let mut cells = workbook.worksheet_cells_reader(&first).map_err(|e| unreadable(e.to_string()))?;
    let text = |cell: &DataRef| -> String {
        match cell {
            DataRef::Empty => String::new(),
            DataRef::String(text) | DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => text.clone(),
            DataRef::SharedString(text) => text.to_string(),
            DataRef::Float(number) if number.fract() == 0.0 && number.abs() < 1e15 => format!("{}", *number as i64),
            DataRef::Float(number) => number.to_string(),
            DataRef::Int(number) => number.to_string(),
            DataRef::Bool(flag) => flag.to_string(),
            DataRef::DateTime(at) => {
                at.as_datetime().map_or_else(|| at.to_string(), |at| at.format("%Y-%m-%dT%H:%M:%S").to_string())
            }
            DataRef::Error(error) => format!("#{error:?}"),
        }
    };
    let mut grid: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    while let Some(cell) = cells.next_cell().map_err(|e| unreadable(e.to_string()))? {
        let (row, column) = cell.get_position();
        if column >= MAX_XLSX_COLUMNS {
            return Err(unreadable(format!(
                "it has a cell in column {}; events take at most {MAX_XLSX_COLUMNS}",
                column + 1
            )));
        }
        let value = text(cell.get_value());
        if value.is_empty() {
            continue;
        }
        // The header and `max_rows` rows: anything further is refused without being read.
        if grid.len() > max_rows && !grid.contains_key(&row) {
            return Err(ApiError::TooManyRows(max_rows));
        }
        grid.entry(row).or_default().push((column, value));
    }
    let mut lines = grid.into_iter().map(|(row, cells)| {
        let width = cells.iter().map(|(column, _)| *column as usize + 1).max().unwrap_or(0);
        let mut values = vec![String::new(); width];
        for (column, value) in cells {
            if let Some(slot) = values.get_mut(column as usize) {
                *slot = value;
            }
        }
        (row as usize + 1, values)
    });
    let names: Vec<String> = lines.next().map(|(_, names)| names).unwrap_or_default();
    let header = Header::read(&names, lang).map_err(column_problem)?;
    let rows = lines.filter_map(|(line, cells)| sheet_row(&header, &names, line, cells, lang)).collect();
    Ok(Parsed { rows, header: Some(header), encoding: "utf-8", notes: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_semicolons_and_windows_1252() {
        let bytes = b"titre;ville\r\nAtelier \xe0 Caen;Caen\r\n";
        let parsed = parse(bytes, ImportFormat::Csv, Lang::Fr, 10).unwrap();
        assert_eq!(parsed.encoding, "windows-1252");
        assert_eq!(parsed.rows[0].fields["title"], "Atelier à Caen");
        assert_eq!(parsed.rows[0].line, 2);
    }

    #[test]
    fn a_quote_never_closed_names_its_line() {
        let text = "title,city\n\"Atelier,Caen\nOther,Rennes\n";
        assert_eq!(unclosed_quote(text, b','), Some(2));
        assert_eq!(unclosed_quote("title\n\"a \"\"quoted\"\" word\"\n", b','), None);
        assert!(parse(text.as_bytes(), ImportFormat::Csv, Lang::En, 10).is_err());
    }

    #[test]
    fn quoted_fields_keep_their_newlines_and_rows_keep_their_first_line() {
        let text = "title;description\r\nA;\"two\r\nlines\"\r\nB;x\r\n;\r\n";
        let parsed = parse(text.as_bytes(), ImportFormat::Csv, Lang::En, 10).unwrap();
        assert_eq!(parsed.rows.len(), 2, "the empty last row is skipped");
        assert_eq!(parsed.rows[0].fields["description"], "two\r\nlines");
        assert_eq!(parsed.rows[1].line, 4);
        let spaced = parse(b"title\n\nA\nB\n", ImportFormat::Csv, Lang::En, 10).unwrap();
        assert_eq!(spaced.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        let parsed = parse(b"title;city\rA;Caen\rB;Rennes\r", ImportFormat::Csv, Lang::En, 10).unwrap();
        assert_eq!(parsed.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 3], "{:?}", parsed.rows);
        assert_eq!(unclosed_quote("title\r\"open\rB\r", b','), Some(2));
    }

    #[test]
    fn a_stray_byte_in_a_utf8_file_is_refused_at_its_line() {
        let bytes = b"title\n\xc3\xa9t\xc3\xa9\nbad \xff\n";
        let Err(ApiError::BadRequest { detail, .. }) = parse(bytes, ImportFormat::Csv, Lang::En, 10) else {
            panic!("a stray byte is refused")
        };
        assert!(detail.starts_with("line 3:"), "{detail}");
    }

    #[test]
    fn a_nul_character_fails_its_row_only() {
        let parsed = parse(br#"[{"title": "a\u0000b"}, {"title": "ok"}]"#, ImportFormat::Json, Lang::En, 10).unwrap();
        assert_eq!(parsed.rows[0].errors[0].code, "nul_character");
        assert!(!parsed.rows[0].errors[0].message.contains('\0'));
        assert!(parsed.rows[1].errors.is_empty());
        let csv = parse(b"title;capacity\r\nA;3\x00\r\n", ImportFormat::Csv, Lang::En, 10).unwrap();
        assert!(!csv.rows[0].errors.is_empty());
        assert!(csv.rows[0].errors.iter().all(|e| !e.message.contains('\0')));
    }

    #[test]
    fn too_many_rows_is_refused() {
        let text = "title\nA\nB\nC\n";
        assert!(matches!(parse(text.as_bytes(), ImportFormat::Csv, Lang::En, 2), Err(ApiError::TooManyRows(2))));
    }
}
