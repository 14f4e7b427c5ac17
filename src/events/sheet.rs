//! An event as one row of a spreadsheet (CSV, XLSX): the columns with their French aliases, an
//! event written out as a row (exports), and a row read back into the JSON that `POST /events`
//! takes and `PATCH /events` merges (imports). One table serves both ways, so that an export
//! imports back unchanged.
//!
//! Reading a row knows nothing of the rules: it turns cells into JSON (dates, decimal commas,
//! yes/no, lists), and the event goes through the same validation as any other write.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::model::{Audience, EventForm, EventFormat, EventMode, EventStatus, EventTime};
use crate::http::language::Lang;

/// What a column holds, and so how its cells are read and written.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Written by exports, ignored by imports (`id` is used to find the event).
    ReadOnly,
    Text,
    Integer,
    /// A decimal number; a decimal comma is accepted.
    Decimal,
    /// `oui`/`non`, `yes`/`no`, `true`/`false`, `1`/`0`.
    Boolean,
    /// `dd/mm/yyyy hh:mm` in the event's timezone, or ISO 8601.
    DateTime,
    /// Several values separated by `|` (or `,` and `;` for slugs and tags).
    List,
    /// One of a fixed set of values.
    Choice(Choices),
}

/// The values of an enumeration with the French words accepted for them.
#[derive(Debug, Clone, Copy)]
pub struct Choices {
    pub values: fn() -> Vec<&'static str>,
    pub french: &'static [(&'static str, &'static str)],
}

/// One column: its name, its French alias, where it goes in the event form, what it holds.
#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub french: &'static str,
    /// Path in the event form (`venue.city`); the session columns are handled on their own.
    pub path: &'static str,
    pub kind: Kind,
}

const fn column(name: &'static str, french: &'static str, path: &'static str, kind: Kind) -> Column {
    Column { name, french, path, kind }
}

fn formats() -> Vec<&'static str> {
    EventFormat::ALL.iter().map(|v| v.as_str()).collect()
}
fn modes() -> Vec<&'static str> {
    EventMode::ALL.iter().map(|v| v.as_str()).collect()
}
fn audiences() -> Vec<&'static str> {
    Audience::ALL.iter().map(|v| v.as_str()).collect()
}
fn statuses() -> Vec<&'static str> {
    EventStatus::ALL.iter().map(|v| v.as_str()).collect()
}

const FORMAT: Choices = Choices {
    values: formats,
    french: &[
        ("webinaire", "webinar"),
        ("conference", "conference"),
        ("atelier", "workshop"),
        ("formation", "training"),
        ("table_ronde", "round_table"),
        ("jeu_serieux", "serious_game"),
        ("seance_creative", "creative_session"),
        ("demonstration", "tool_demo"),
        ("exposition", "exhibition"),
        ("visite", "visit"),
        ("portes_ouvertes", "open_house"),
        ("appel_a_idees", "call_for_ideas"),
        ("autre", "other"),
    ],
};
const MODE: Choices = Choices {
    values: modes,
    french: &[("en_ligne", "online"), ("distanciel", "online"), ("presentiel", "onsite"), ("hybride", "hybrid")],
};
const AUDIENCE: Choices = Choices {
    values: audiences,
    french: &[("agents_publics", "public_agents"), ("grand_public", "general_public"), ("tous", "everyone")],
};
const STATUS: Choices = Choices {
    values: statuses,
    french: &[
        ("prevu", "scheduled"),
        ("reporte", "postponed"),
        ("reprogramme", "rescheduled"),
        ("passe_en_ligne", "moved_online"),
        ("complet", "full"),
        ("annule", "cancelled"),
    ],
};

/// The first session's start and end; further sessions go in `more_sessions`.
const STARTS_AT: &str = "starts_at";
const ENDS_AT: &str = "ends_at";
const MORE_SESSIONS: &str = "more_sessions";

/// Every column, in the order exports write them.
pub const COLUMNS: &[Column] = &[
    column("id", "identifiant", "", Kind::ReadOnly),
    column("external_id", "identifiant_externe", "external_id", Kind::Text),
    column("organizer", "organisateur", "organizer", Kind::Text),
    column("edition", "edition", "edition", Kind::Integer),
    column("track", "parcours", "track", Kind::Text),
    column("title", "titre", "title", Kind::Text),
    column("summary", "resume", "summary", Kind::Text),
    column("description", "description", "description", Kind::Text),
    column("format", "format", "format", Kind::Choice(FORMAT)),
    column("mode", "modalite", "mode", Kind::Choice(MODE)),
    column("audience", "public", "audience", Kind::Choice(AUDIENCE)),
    column(STARTS_AT, "date_debut", "", Kind::DateTime),
    column(ENDS_AT, "date_fin", "", Kind::DateTime),
    column(MORE_SESSIONS, "autres_seances", "", Kind::Text),
    column("timezone", "fuseau_horaire", "timezone", Kind::Text),
    column("venue_name", "lieu", "venue.name", Kind::Text),
    column("venue_address", "adresse", "venue.address", Kind::Text),
    column("postal_code", "code_postal", "venue.postal_code", Kind::Text),
    column("city", "ville", "venue.city", Kind::Text),
    column("department", "departement", "venue.department", Kind::Text),
    column("region", "region", "venue.region", Kind::Text),
    column("latitude", "latitude", "venue.latitude", Kind::Decimal),
    column("longitude", "longitude", "venue.longitude", Kind::Decimal),
    column("online_url", "lien_en_ligne", "online_url", Kind::Text),
    column("registration_required", "inscription_obligatoire", "registration.required", Kind::Boolean),
    column("registration_url", "lien_inscription", "registration.url", Kind::Text),
    column("capacity", "capacite", "registration.capacity", Kind::Integer),
    column("registration_closes_at", "cloture_inscriptions", "registration.closes_at", Kind::DateTime),
    column("language", "langue", "language", Kind::Text),
    column("accessibility", "accessibilite", "accessibility", Kind::Text),
    column("tags", "mots_cles", "tags", Kind::List),
    column("labs", "labs", "labs", Kind::List),
    column("co_organizers", "co_organisateurs", "co_organizers", Kind::List),
    column("image_url", "image", "image_url", Kind::Text),
    column("status", "statut", "status", Kind::Choice(STATUS)),
    column("status_note", "note_statut", "status_note", Kind::Text),
    column("slug", "slug", "", Kind::ReadOnly),
    column("publication", "publication", "", Kind::ReadOnly),
];

fn find_column(name: &str) -> Option<&'static Column> {
    let key = fold(name);
    COLUMNS.iter().find(|c| c.name == key || c.french == key)
}

/// Lowercase, without accents, spaces and hyphens as underscores: `Date de début` and
/// `date_debut` name the same column, `Table ronde` and `table_ronde` the same value.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            ' ' | '-' | '\'' | '’' => '_',
            other => other,
        };
        out.push(plain);
    }
    // `date de début` and `date_de_debut` fold to the same; so does `date début`.
    out.replace("_de_", "_").replace("_des_", "_")
}

// --- Writing (exports) ----------------------------------------------------------------------

/// A cell as exports write it: spreadsheets get numbers, booleans and dates as such.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Boolean(bool),
    /// A local date-time in the event's timezone.
    DateTime(NaiveDateTime),
}

impl Cell {
    /// As a CSV cell: what an import reads back the same.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => defuse(text),
            Cell::Number(number) => number.to_string(),
            Cell::Boolean(true) => "true".into(),
            Cell::Boolean(false) => "false".into(),
            Cell::DateTime(at) => local_text(*at),
        }
    }
}

/// A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@` (or a tab or carriage return)
/// as a formula: text that people typed (a title, an organizer's name) is written with a leading
/// apostrophe instead, so that opening an export never runs someone else's formula. Imports
/// take the apostrophe off again.
pub fn defuse(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    }
}

/// Undoes [`defuse`].
fn undefuse(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => value,
    }
}

fn local_text(at: NaiveDateTime) -> String {
    if at.and_utc().timestamp() % 60 == 0 {
        at.format("%d/%m/%Y %H:%M").to_string()
    } else {
        at.format("%d/%m/%Y %H:%M:%S").to_string()
    }
}

/// An event as exports write it: the form it reads back as, and what only exports show.
pub struct SheetEvent<'a> {
    pub id: Uuid,
    pub slug: &'a str,
    pub publication: &'a str,
    pub form: &'a EventForm,
}

/// The header row.
pub fn header() -> Vec<&'static str> {
    COLUMNS.iter().map(|c| c.name).collect()
}

/// One row, in the order of [`header`].
pub fn cells(event: &SheetEvent) -> Vec<Cell> {
    let zone: Tz = event.form.timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
    let form = serde_json::to_value(event.form).unwrap_or(Value::Null);
    COLUMNS
        .iter()
        .map(|column| match column.name {
            "id" => Cell::Text(event.id.to_string()),
            "slug" => Cell::Text(event.slug.to_string()),
            "publication" => Cell::Text(event.publication.to_string()),
            STARTS_AT => event.form.sessions.first().map_or(Cell::Empty, |s| time_cell(s.starts_at, zone)),
            ENDS_AT => event.form.sessions.first().map_or(Cell::Empty, |s| time_cell(s.ends_at, zone)),
            MORE_SESSIONS => {
                let more: Vec<String> = event
                    .form
                    .sessions
                    .iter()
                    .skip(1)
                    .map(|s| format!("{} - {}", time_cell(s.starts_at, zone).text(), time_cell(s.ends_at, zone).text()))
                    .collect();
                if more.is_empty() { Cell::Empty } else { Cell::Text(more.join(" | ")) }
            }
            // The organizer is the event's own: an export re-imported elsewhere names it.
            _ => value_cell(column, at_path(&form, column.path), zone),
        })
        .collect()
}

fn at_path<'v>(form: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(form, |value, key| value.get(key))
}

fn value_cell(column: &Column, value: Option<&Value>, zone: Tz) -> Cell {
    match (column.kind, value) {
        (_, None | Some(Value::Null)) => Cell::Empty,
        (Kind::DateTime, Some(Value::String(text))) => {
            EventTime::parse(text).map_or_else(|| Cell::Text(text.clone()), |time| time_cell(time, zone))
        }
        (Kind::List, Some(Value::Array(items))) if items.is_empty() => Cell::Empty,
        (Kind::List, Some(Value::Array(items))) => {
            Cell::Text(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "))
        }
        (_, Some(Value::Bool(flag))) => Cell::Boolean(*flag),
        (_, Some(Value::Number(number))) => number.as_f64().map_or(Cell::Empty, Cell::Number),
        (_, Some(Value::String(text))) => Cell::Text(text.clone()),
        (_, Some(other)) => Cell::Text(other.to_string()),
    }
}

/// A local time when it names one instant in `zone`; an ISO 8601 time with its offset for the
/// hour that repeats when clocks go back, which a local time cannot tell apart.
fn time_cell<Z: TimeZone>(time: EventTime, zone: Z) -> Cell {
    match time {
        EventTime::Local(naive) => Cell::DateTime(naive),
        EventTime::Exact(at) => {
            let local = at.with_timezone(&zone).naive_local();
            match zone.from_local_datetime(&local) {
                chrono::LocalResult::Single(_) => Cell::DateTime(local),
                _ => Cell::Text(at.to_rfc3339()),
            }
        }
    }
}

// --- Reading (imports) ----------------------------------------------------------------------

/// A cell that cannot be read, or a column that is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// The column as the file names it.
    pub column: String,
    /// The field of the event form it fills (`sessions[0].starts_at`).
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// The columns of a file, in its order (`None` for a column left empty in the header).
pub struct Header {
    columns: Vec<Option<&'static Column>>,
    written: Vec<String>,
}

impl Header {
    /// Reads the header row. Unknown and repeated columns are refused, naming them.
    pub fn read(names: &[String], lang: Lang) -> Result<Header, Vec<CellError>> {
        let mut columns = Vec::with_capacity(names.len());
        let mut errors = Vec::new();
        for name in names {
            if name.trim().is_empty() {
                columns.push(None);
                continue;
            }
            match find_column(name) {
                Some(column) if columns.iter().flatten().any(|c: &&Column| std::ptr::eq(*c, column)) => {
                    errors.push(CellError {
                        column: name.clone(),
                        field: column.path.into(),
                        code: "repeated_column",
                        message: lang.pick(
                            format!("the column `{}` appears twice", column.name),
                            format!("la colonne « {name} » apparaît deux fois"),
                        ),
                    })
                }
                Some(column) => columns.push(Some(column)),
                None => errors.push(CellError {
                    column: name.clone(),
                    field: name.clone(),
                    code: "unknown_column",
                    message: lang.pick(
                        format!(
                            "`{name}` is not a column; the columns are: {}",
                            COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                        ),
                        format!(
                            "« {name} » n'est pas une colonne ; les colonnes sont : {}",
                            COLUMNS.iter().map(|c| c.french).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                }),
            }
        }
        if errors.is_empty() { Ok(Header { columns, written: names.to_vec() }) } else { Err(errors) }
    }

    /// The column a form field comes from, as the file names it (or by its name in `lang` when
    /// the file has no such column): where an error is shown to the person who wrote the file.
    pub fn column_of(&self, field: &str, lang: Lang) -> String {
        let wanted = column_for_field(field);
        let written = self
            .columns
            .iter()
            .zip(&self.written)
            .find(|(column, _)| column.is_some_and(|c| c.name == wanted))
            .map(|(_, name)| name.clone());
        written.unwrap_or_else(|| match (find_column(wanted), lang) {
            (Some(column), Lang::Fr) => column.french.to_string(),
            _ => wanted.to_string(),
        })
    }

    /// Whether the file has this column.
    pub fn has(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c.is_some_and(|c| c.name == name))
    }
}

/// The column name of a form field: `sessions[0].starts_at` is `starts_at`, `sessions[3].…`
/// is `more_sessions`, `venue.city` is `city`, `labs[2]` is `labs`.
fn column_for_field(field: &str) -> &str {
    if let Some(rest) = field.strip_prefix("sessions") {
        return match rest {
            "" => STARTS_AT,
            _ if rest.starts_with("[0]") && rest.ends_with("ends_at") => ENDS_AT,
            _ if rest.starts_with("[0]") => STARTS_AT,
            _ => MORE_SESSIONS,
        };
    }
    let plain = field.split('[').next().unwrap_or(field);
    COLUMNS.iter().find(|c| !c.path.is_empty() && c.path == plain).map_or(plain, |c| c.name)
}

/// A row read: the event it names by id (as exports write it), and its fields as JSON, with
/// `null` for an empty cell (a merge patch clears such a field; a new event leaves it out).
#[derive(Debug)]
pub struct RowInput {
    pub id: Option<Uuid>,
    pub fields: Map<String, Value>,
}

/// Reads one row of cells, in the header's order.
pub fn read_row(header: &Header, cells: &[String], lang: Lang) -> Result<RowInput, Vec<CellError>> {
    let mut fields = Map::new();
    let mut errors = Vec::new();
    let mut id = None;
    let (mut starts, mut ends, mut more) = (None, None, None);
    for ((column, written), cell) in header.columns.iter().zip(&header.written).zip(cells) {
        let Some(column) = column else { continue };
        let text = undefuse(cell.trim());
        let fail = |code, english: String, french: String| CellError {
            column: written.clone(),
            field: column.path.into(),
            code,
            message: lang.pick(english, french),
        };
        match column.name {
            "id" if !text.is_empty() => match Uuid::parse_str(text) {
                Ok(parsed) => id = Some(parsed),
                Err(_) => errors.push(fail(
                    "invalid_id",
                    format!("“{text}” is not an event id (leave it empty for a new event)"),
                    format!(
                        "« {text} » n'est pas un identifiant d'événement (laissez-le vide pour un nouvel événement)"
                    ),
                )),
            },
            STARTS_AT => starts = Some((written, text)),
            ENDS_AT => ends = Some((written, text)),
            MORE_SESSIONS => more = Some((written, text)),
            _ if matches!(column.kind, Kind::ReadOnly) => {}
            _ => match read_cell(column, text) {
                Ok(value) => set_path(&mut fields, column.path, value),
                Err((code, english, french)) => errors.push(fail(code, english, french)),
            },
        }
    }
    if starts.is_some() || ends.is_some() || more.is_some() {
        match read_sessions(starts, ends, more, lang) {
            Ok(sessions) => {
                fields.insert("sessions".into(), sessions);
            }
            Err(mut session_errors) => errors.append(&mut session_errors),
        }
    }
    if errors.is_empty() { Ok(RowInput { id, fields }) } else { Err(errors) }
}

fn set_path(fields: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            fields.insert(path.into(), value);
        }
        Some((parent, child)) => {
            let entry = fields.entry(parent.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                inner.insert(child.into(), value);
            }
        }
    }
}

type CellFailure = (&'static str, String, String);

fn read_cell(column: &Column, text: &str) -> Result<Value, CellFailure> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    match column.kind {
        Kind::ReadOnly | Kind::Text => Ok(json!(text)),
        Kind::Integer => text.replace([' ', '\u{a0}', '\u{202f}'], "").parse::<i64>().map(|n| json!(n)).map_err(|_| {
            (
                "not_a_number",
                format!("“{text}” is not a whole number"),
                format!("« {text} » n'est pas un nombre entier"),
            )
        }),
        Kind::Decimal => read_decimal(text).map(|n| json!(n)).ok_or_else(|| {
            ("not_a_number", format!("“{text}” is not a number"), format!("« {text} » n'est pas un nombre"))
        }),
        Kind::Boolean => read_boolean(text).map(Value::Bool).ok_or_else(|| {
            (
                "not_a_boolean",
                format!("“{text}” is neither yes nor no: write yes or no"),
                format!("« {text} » n'est ni oui ni non : écrivez oui ou non"),
            )
        }),
        Kind::DateTime => read_time(text).map(Value::String).ok_or_else(|| not_a_date(text)),
        Kind::List => Ok(Value::Array(split_list(column, text).into_iter().map(Value::String).collect())),
        Kind::Choice(choices) => read_choice(choices, text).map(|v| json!(v)).ok_or_else(|| {
            let allowed = (choices.values)().join(", ");
            (
                "unknown_value",
                format!("“{text}” is not one of: {allowed}"),
                format!("« {text} » n'est pas une valeur possible : {allowed}"),
            )
        }),
    }
}

fn not_a_date(text: &str) -> CellFailure {
    (
        "not_a_date",
        format!("“{text}” is not a date: write dd/mm/yyyy hh:mm or ISO 8601 (2030-11-12T14:00)"),
        format!("« {text} » n'est pas une date : écrivez jj/mm/aaaa hh:mm ou ISO 8601 (2030-11-12T14:00)"),
    )
}

/// `48,1173`, `48.1173`, `-1,68`: a spreadsheet in French writes a decimal comma.
fn read_decimal(text: &str) -> Option<f64> {
    let plain = text.replace([' ', '\u{a0}', '\u{202f}'], "");
    let normalized = if plain.contains(',') && !plain.contains('.') { plain.replace(',', ".") } else { plain };
    normalized.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn read_boolean(text: &str) -> Option<bool> {
    match fold(text).as_str() {
        "oui" | "yes" | "true" | "vrai" | "1" | "x" | "o" | "y" => Some(true),
        "non" | "no" | "false" | "faux" | "0" | "n" => Some(false),
        _ => None,
    }
}

/// A date-time as the API reads it: `dd/mm/yyyy hh:mm[:ss]` (also `14h30`) becomes the local
/// `yyyy-mm-ddThh:mm:ss` of the event's timezone; ISO 8601 is kept as written.
fn read_time(text: &str) -> Option<String> {
    if EventTime::parse(text).is_some() {
        return Some(text.to_string());
    }
    let (date, time) = text.split_once([' ', 'T']).map_or((text, ""), |(d, t)| (d.trim(), t.trim()));
    let date = NaiveDate::parse_from_str(date, "%d/%m/%Y").ok()?;
    if time.is_empty() {
        return None; // a session needs its hour
    }
    // `14h` alone: chrono wants minutes, so the hour is read by hand.
    let bare_hour = time.strip_suffix(['h', 'H']).and_then(|hour| hour.parse::<u32>().ok());
    let time = match bare_hour {
        Some(hour) => NaiveTime::from_hms_opt(hour, 0, 0)?,
        None => ["%H:%M:%S", "%H:%M", "%Hh%M", "%HH%M"]
            .iter()
            .find_map(|format| NaiveTime::parse_from_str(time, format).ok())
            // A leap second (`14:00:60`) is no time of an event.
            .filter(|time| time.nanosecond() < 1_000_000_000)?,
    };
    let local = NaiveDateTime::new(date, time);
    EventTime::parse(&local.format("%Y-%m-%dT%H:%M:%S").to_string())?;
    Some(local.format("%Y-%m-%dT%H:%M:%S").to_string())
}

fn split_list(column: &Column, text: &str) -> Vec<String> {
    // Names of co-organizers may hold commas; slugs and tags do not.
    let separators: &[char] = if column.name == "co_organizers" { &['|', '\n'] } else { &['|', ',', ';', '\n'] };
    text.split(separators).map(str::trim).filter(|item| !item.is_empty()).map(String::from).collect()
}

fn read_choice(choices: Choices, text: &str) -> Option<&'static str> {
    let key = fold(text);
    (choices.values)()
        .into_iter()
        .find(|value| *value == key)
        .or_else(|| choices.french.iter().find(|(french, _)| *french == key).map(|(_, value)| *value))
}

type Written<'a> = Option<(&'a String, &'a str)>;

/// `starts_at`, `ends_at` and `more_sessions` (`start - end | start - end`) as `sessions`.
fn read_sessions(starts: Written, ends: Written, more: Written, lang: Lang) -> Result<Value, Vec<CellError>> {
    let mut errors = Vec::new();
    let mut sessions = Vec::new();
    let mut read = |written: Written, field: String| -> Option<String> {
        let (column, text) = written?;
        if text.is_empty() {
            return None;
        }
        match read_time(text) {
            Some(time) => Some(time),
            None => {
                let (code, english, french) = not_a_date(text);
                errors.push(CellError { column: column.clone(), field, code, message: lang.pick(english, french) });
                None
            }
        }
    };
    let first = (read(starts, "sessions[0].starts_at".into()), read(ends, "sessions[0].ends_at".into()));
    match first {
        (Some(start), Some(end)) => sessions.push(json!({"starts_at": start, "ends_at": end})),
        (None, None) => {}
        (start, end) => {
            // One half missing: the rules say which, with the session's own field.
            sessions.push(json!({"starts_at": start, "ends_at": end}));
        }
    }
    if let Some((column, text)) = more.filter(|(_, text)| !text.is_empty()) {
        for (index, pair) in text.split(['|', '\n']).map(str::trim).filter(|p| !p.is_empty()).enumerate() {
            let position = index + 1;
            let times = pair.split_once(" - ").or_else(|| pair.split_once('/').filter(|_| !pair.contains("//")));
            let parsed = times.and_then(|(start, end)| Some((read_time(start.trim())?, read_time(end.trim())?)));
            match parsed {
                Some((start, end)) => sessions.push(json!({"starts_at": start, "ends_at": end})),
                None => errors.push(CellError {
                    column: column.clone(),
                    field: format!("sessions[{position}]"),
                    code: "not_a_session",
                    message: lang.pick(
                        format!("“{pair}” is not a session: write dd/mm/yyyy hh:mm - dd/mm/yyyy hh:mm, sessions separated by |"),
                        format!(
                            "« {pair} » n'est pas une séance : écrivez jj/mm/aaaa hh:mm - jj/mm/aaaa hh:mm, séances séparées par |"
                        ),
                    ),
                }),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(if sessions.is_empty() { Value::Null } else { Value::Array(sessions) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Header {
        Header::read(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>(), Lang::En).unwrap()
    }

    fn row(names: &[&str], cells: &[&str]) -> Result<RowInput, Vec<CellError>> {
        read_row(&header(names), &cells.iter().map(|c| c.to_string()).collect::<Vec<_>>(), Lang::Fr)
    }

    #[test]
    fn french_headers_dates_and_decimal_commas_read_as_the_api_form() {
        let input = row(
            &["Titre", "Date de début", "date_fin", "Latitude", "Inscription obligatoire", "Mots-clés", "Modalité"],
            &["Atelier", "24/11/2030 14h", "24/11/2030 16h30", "48,1173", "oui", "numérique, usagers", "Présentiel"],
        )
        .unwrap();
        assert_eq!(input.fields["title"], "Atelier");
        assert_eq!(
            input.fields["sessions"],
            json!([{"starts_at": "2030-11-24T14:00:00", "ends_at": "2030-11-24T16:30:00"}])
        );
        assert_eq!(input.fields["venue"]["latitude"], json!(48.1173));
        assert_eq!(input.fields["registration"]["required"], json!(true));
        assert_eq!(input.fields["tags"], json!(["numérique", "usagers"]));
        assert_eq!(input.fields["mode"], "onsite");
    }

    #[test]
    fn a_date_that_does_not_exist_is_named_with_its_column_in_french() {
        let errors = row(&["titre", "date_debut"], &["Atelier", "31/11/2021 14:00"]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].column, "date_debut");
        assert_eq!(errors[0].field, "sessions[0].starts_at");
        assert!(errors[0].message.starts_with("« 31/11/2021 14:00 » n'est pas une date"), "{}", errors[0].message);
    }

    #[test]
    fn unknown_columns_are_refused_by_name() {
        let names = vec!["title".to_string(), "colour".to_string()];
        let Err(errors) = Header::read(&names, Lang::En) else { panic!("an unknown column is refused") };
        assert_eq!(errors[0].code, "unknown_column");
        assert_eq!(errors[0].column, "colour");
    }

    #[test]
    fn an_event_written_as_a_row_reads_back_as_the_same_form() {
        let form: EventForm = serde_json::from_value(json!({
            "edition": 2030, "title": "Atelier", "format": "round_table", "mode": "hybrid",
            "sessions": [
                {"starts_at": "2030-11-12T14:00:00+01:00", "ends_at": "2030-11-12T16:00:00+01:00"},
                {"starts_at": "2030-11-19T14:00:30+01:00", "ends_at": "2030-11-19T16:00:00+01:00"}
            ],
            "venue": {"city": "Rennes", "latitude": 48.1173, "region": "53"},
            "registration": {"required": true, "capacity": 30},
            "tags": ["numérique"], "co_organizers": ["Ville de Rennes, direction du numérique"],
            "online_url": "https://visio.example.fr/x"
        }))
        .unwrap();
        let id = Uuid::now_v7();
        let written = cells(&SheetEvent { id, slug: "atelier-2030-abc", publication: "draft", form: &form });
        let texts: Vec<String> = written.iter().map(Cell::text).collect();
        let names: Vec<String> = super::header().iter().map(|n| n.to_string()).collect();
        let read = read_row(&Header::read(&names, Lang::En).unwrap(), &texts, Lang::En).unwrap();
        assert_eq!(read.id, Some(id));
        let mut back = Value::Object(Map::new());
        crate::events::form::merge_patch(&mut back, &Value::Object(read.fields));
        let back: EventForm = serde_json::from_value(back).unwrap();
        let zone = chrono_tz::Europe::Paris;
        let instants = |f: &EventForm| -> Vec<_> {
            f.sessions.iter().map(|s| (s.starts_at.resolve(zone), s.ends_at.resolve(zone))).collect()
        };
        assert_eq!(instants(&back), instants(&form));
        assert_eq!(back.co_organizers, form.co_organizers);
        assert_eq!(back.venue.as_ref().unwrap().latitude, Some(48.1173));
        assert_eq!(back.registration.as_ref().unwrap().capacity, Some(30));
        assert_eq!(back.format, EventFormat::RoundTable);
    }
}
