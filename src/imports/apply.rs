//! Applying an import's rows, each through the one event write path (`events::repo::create`
//! and `update`, with their rules and history): upsert by the event's id (as exports write it)
//! or by `external_id` within the organizer. A row whose content equals the stored event is
//! `unchanged`: no new version, no history entry.
//!
//! Every row runs in its own savepoint, so a failing row is undone alone and every row is
//! checked. The import as a whole runs in one transaction: an atomic import with a failed row,
//! and a dry run, are rolled back whole, after every row was applied for real (so a dry run
//! sees exactly what the import would do, database constraints included).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::model::{Outcome, RowError, RowReport};
use super::rows::{InputRow, Parsed, Place, row_error};
use super::wording;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::events::form::{Lookups, merge_patch};
use crate::events::history::Actor;
use crate::events::model::EventForm;
use crate::events::repo::{self, NewEvent};
use crate::events::sheet::Header;
use crate::events::workflow::{self, Transition};
use crate::geo::repo::Geography;
use crate::http::conditional::IfMatch;
use crate::http::language::Lang;
use crate::schema::events;

/// What the caller asked of the import.
pub struct Plan {
    pub actor: Actor,
    /// Admins: the organizer of rows that do not name one.
    pub organizer: Option<String>,
    pub dry_run: bool,
    pub atomic: bool,
    pub submit: bool,
    pub lang: Lang,
    pub now: DateTime<Utc>,
}

/// The rows' reports, and whether what they report was saved.
pub struct Applied {
    pub rows: Vec<RowReport>,
    pub saved: bool,
}

/// Why the import's transaction ends without a commit.
enum Undo {
    /// A dry run, or an atomic import with a failed row: the reports stand, nothing is kept.
    Rows(Vec<RowReport>),
    Error(ApiError),
}

impl From<diesel::result::Error> for Undo {
    fn from(error: diesel::result::Error) -> Self {
        Undo::Error(error.into())
    }
}

/// Applies the rows inside the caller's transaction.
pub fn apply(conn: &mut PgConnection, geo: &Geography, plan: &Plan, parsed: Parsed) -> ApiResult<Applied> {
    let Parsed { rows, header, .. } = parsed;
    let outcome = conn.transaction::<_, Undo, _>(|conn| {
        let default_edition = current_edition(conn, plan.now)?;
        let mut importer = Importer {
            geo,
            plan,
            header: header.as_ref(),
            organizers: HashMap::new(),
            default_edition,
            lookups: Lookups::default(),
            known: HashMap::new(),
            new: Vec::new(),
            lines: Vec::new(),
        };
        let started = std::time::Instant::now();
        importer.prefetch(conn, &rows).map_err(Undo::Error)?;
        let mut reports = Vec::with_capacity(rows.len());
        let mut seen: HashMap<(Option<Uuid>, String), usize> = HashMap::new();
        importer.lines = rows.iter().map(|row| row.line).collect();
        for row in rows {
            let index = reports.len();
            let report = match importer.duplicate(conn, &mut seen, &row, index).map_err(Undo::Error)? {
                Some(error) => failed(&row, vec![error]),
                None => importer.row(conn, row, index).map_err(Undo::Error)?,
            };
            reports.push(report);
        }
        let checked = started.elapsed();
        importer.insert_new(conn, &mut reports).map_err(Undo::Error)?;
        tracing::info!(
            rows = reports.len(),
            checked_ms = checked.as_millis(),
            inserted_ms = (started.elapsed() - checked).as_millis(),
            "import applied"
        );
        let any_failed = reports.iter().any(|r| r.outcome == Outcome::Failed);
        if plan.dry_run || (plan.atomic && any_failed) { Err(Undo::Rows(reports)) } else { Ok(reports) }
    });
    match outcome {
        Ok(rows) => Ok(Applied { rows, saved: true }),
        Err(Undo::Rows(rows)) => Ok(Applied { rows, saved: false }),
        Err(Undo::Error(error)) => Err(error),
    }
}

fn failed(row: &InputRow, errors: Vec<RowError>) -> RowReport {
    RowReport { line: row.line, external_id: row.external_id(), outcome: Outcome::Failed, event_id: None, errors }
}

struct Importer<'a> {
    geo: &'a Geography,
    plan: &'a Plan,
    header: Option<&'a Header>,
    /// Organizers named by the rows (id or slug), looked up once.
    organizers: HashMap<String, Option<Uuid>>,
    /// The edition of new rows that name none.
    default_edition: Option<i32>,
    /// Editions, tracks, labs and owners, read once for all rows.
    lookups: Lookups,
    /// Stored events of the file's organizers, by `(organizer, external_id)`.
    known: HashMap<(Uuid, String), Uuid>,
    /// New events checked and waiting to be inserted together, with their row's index.
    new: Vec<(usize, NewEvent)>,
    /// The line of each row, by index.
    lines: Vec<usize>,
}

/// The edition a new row without one belongs to: the one open for referencing now, else the
/// latest. A spreadsheet of this year's events need not say the year on every line.
fn current_edition(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Option<i32>> {
    use crate::schema::editions;
    let open: Option<i32> = editions::table
        .filter(editions::referencing_opens_at.le(now).and(editions::referencing_closes_at.gt(now)))
        .select(editions::year)
        .order(editions::year.desc())
        .first(conn)
        .optional()?;
    match open {
        Some(year) => Ok(Some(year)),
        None => editions::table.select(diesel::dsl::max(editions::year)).first(conn),
    }
}

impl Importer<'_> {
    /// A second row with the same `external_id` for the same organizer would silently
    /// overwrite the first: it is refused, naming the first. The organizer is the one the row
    /// resolves to, however it is named (slug, id, the parameter, or none).
    fn duplicate(
        &mut self,
        conn: &mut PgConnection,
        seen: &mut HashMap<(Option<Uuid>, String), usize>,
        row: &InputRow,
        index: usize,
    ) -> ApiResult<Option<RowError>> {
        let Some(external_id) = row.external_id().filter(|id| !id.is_empty() && row.errors.is_empty()) else {
            return Ok(None);
        };
        let organizer = self.organizer_of(conn, &self.with_default_organizer(&row.fields))?;
        let first = *seen.entry((organizer, external_id)).or_insert(index);
        if first == index {
            return Ok(None);
        }
        let first_line = self.lines.get(first).copied().unwrap_or_default();
        let message = self.plan.lang.pick(
            format!("this external_id is already used by line {first_line} of the file"),
            format!("cet identifiant externe est déjà celui de la ligne {first_line} du fichier"),
        );
        Ok(Some(self.error(row.line, "external_id", "repeated_external_id", &message)))
    }

    /// The row's fields, with the `organizer` parameter for a row that names none.
    fn with_default_organizer(&self, fields: &Map<String, Value>) -> Map<String, Value> {
        let mut fields = fields.clone();
        if !fields.contains_key("organizer")
            && let Some(organizer) = &self.plan.organizer
        {
            fields.insert("organizer".into(), Value::String(organizer.clone()));
        }
        fields
    }

    fn error(&self, line: usize, field: &str, code: &str, message: &str) -> RowError {
        match self.header {
            Some(header) => {
                let column = header.column_of(field, self.plan.lang);
                row_error(self.plan.lang, line, Place::Column(&column), field, code, message)
            }
            None if field.is_empty() => row_error(self.plan.lang, line, Place::Row, field, code, message),
            None => row_error(self.plan.lang, line, Place::Field(field), field, code, message),
        }
    }

    /// Applies one row in a savepoint. A rule it breaks is its report; a fault of the
    /// database ends the import.
    fn row(&mut self, conn: &mut PgConnection, row: InputRow, index: usize) -> ApiResult<RowReport> {
        if !row.errors.is_empty() {
            let errors = row.errors.clone();
            return Ok(failed(&row, errors));
        }
        // Only writes run in a savepoint of their own (see `update`, `create`): checking a new
        // row reads, and its insert waits for the others.
        match self.upsert(conn, &row, index) {
            Ok((outcome, id)) => Ok(RowReport {
                line: row.line,
                external_id: row.external_id(),
                outcome,
                event_id: id,
                errors: Vec::new(),
            }),
            Err(error) if is_about_the_row(&error) => {
                let errors = self.errors_of(row.line, error);
                Ok(failed(&row, errors))
            }
            Err(error) => Err(error),
        }
    }

    /// Applies a row; a new event without `submit` is only checked here, and inserted with the
    /// others by [`Importer::insert_new`] (its id is known then).
    fn upsert(&mut self, conn: &mut PgConnection, row: &InputRow, index: usize) -> ApiResult<(Outcome, Option<Uuid>)> {
        let fields = self.with_default_organizer(&row.fields);
        let organizer = self.organizer_of(conn, &fields)?;
        match self.existing(conn, row, organizer)? {
            Some(id) => self.update(conn, id, fields).map(|(outcome, id)| (outcome, Some(id))),
            None => self.create(conn, fields, index),
        }
    }

    /// Reads at once the events that the file's rows name by `external_id`, per organizer.
    fn prefetch(&mut self, conn: &mut PgConnection, rows: &[InputRow]) -> ApiResult<()> {
        let mut wanted: HashMap<Uuid, Vec<String>> = HashMap::new();
        for row in rows.iter().filter(|row| row.errors.is_empty() && row.id.is_none()) {
            let Some(external_id) = row.external_id().filter(|id| !id.is_empty()) else { continue };
            let fields = self.with_default_organizer(&row.fields);
            if let Some(organizer) = self.organizer_of(conn, &fields)?.filter(|o| self.plan.actor.acts_for(*o)) {
                wanted.entry(organizer).or_default().push(external_id);
            }
        }
        for (organizer, external_ids) in wanted {
            let found: Vec<(Option<String>, Uuid)> = events::table
                .filter(events::organizer_id.eq(organizer).and(events::external_id.eq_any(&external_ids)))
                .select((events::external_id, events::id))
                .load(conn)?;
            for (external_id, id) in found {
                if let Some(external_id) = external_id {
                    self.known.insert((organizer, external_id), id);
                }
            }
        }
        Ok(())
    }

    /// Inserts the new events checked by the rows, together (`events::repo::insert_new`), and
    /// fills in their reports. Should the batch be refused (a row that another import took in
    /// the meantime), each is inserted on its own, so that the refusal lands on its row.
    fn insert_new(&mut self, conn: &mut PgConnection, reports: &mut [RowReport]) -> ApiResult<()> {
        let pending = std::mem::take(&mut self.new);
        if pending.is_empty() {
            return Ok(());
        }
        let (indexes, events): (Vec<usize>, Vec<NewEvent>) = pending.into_iter().unzip();
        let actor = &self.plan.actor;
        match conn.transaction(|conn| repo::insert_new(conn, actor, &events)) {
            Ok(rows) => {
                for (index, row) in indexes.iter().zip(rows) {
                    if let Some(report) = reports.get_mut(*index) {
                        report.event_id = Some(row);
                    }
                }
                Ok(())
            }
            Err(error) if is_about_the_row(&error) => {
                for (index, event) in indexes.iter().zip(&events) {
                    let inserted = conn.transaction(|conn| repo::insert_new(conn, actor, std::slice::from_ref(event)));
                    let Some(report) = reports.get_mut(*index) else { continue };
                    match inserted {
                        Ok(ids) => report.event_id = ids.first().copied(),
                        Err(error) if is_about_the_row(&error) => {
                            report.outcome = Outcome::Failed;
                            report.errors = self.errors_of(report.line, error);
                        }
                        Err(error) => return Err(error),
                    }
                }
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// The organizer a row is for: the one it names, or the caller's own.
    fn organizer_of(&mut self, conn: &mut PgConnection, fields: &Map<String, Value>) -> ApiResult<Option<Uuid>> {
        let Some(key) = fields.get("organizer").and_then(Value::as_str) else {
            return Ok(self.plan.actor.organizer_id);
        };
        if let Some(found) = self.organizers.get(key) {
            return Ok(*found);
        }
        if let Ok(id) = Uuid::parse_str(key)
            && self.plan.actor.organizer_id == Some(id)
        {
            return Ok(Some(id));
        }
        let found = match crate::organizers::repo::find_row(conn, key) {
            Ok(row) => Some(row.id),
            Err(ApiError::NotFound(_)) => None,
            Err(other) => return Err(other),
        };
        self.organizers.insert(key.to_string(), found);
        Ok(found)
    }

    /// The stored event the row is about: by id, else by `external_id` within its organizer.
    /// Another organizer's event is not found, as if it did not exist.
    fn existing(&self, conn: &mut PgConnection, row: &InputRow, organizer: Option<Uuid>) -> ApiResult<Option<Uuid>> {
        if let Some(id) = row.id {
            let owner: Option<Uuid> = events::table.find(id).select(events::organizer_id).first(conn).optional()?;
            let names_another = row.fields.get("organizer").is_some_and(|named| !named.is_null())
                && organizer.is_some_and(|named| owner.is_some_and(|owner| owner != named));
            return match owner {
                Some(owner) if self.plan.actor.acts_for(owner) && names_another => {
                    Err(ApiError::field("organizer", "immutable", "an event stays with the organizer that created it"))
                }
                Some(owner) if self.plan.actor.acts_for(owner) => Ok(Some(id)),
                _ => Err(ApiError::field(
                    "id",
                    "unknown_event",
                    self.plan.lang.pick(
                        format!("no event of yours has the id {id} (leave id empty to create one)"),
                        format!("aucun de vos événements n'a l'identifiant {id} (laissez-le vide pour en créer un)"),
                    ),
                )),
            };
        }
        let (Some(external_id), Some(organizer)) = (row.external_id().filter(|id| !id.is_empty()), organizer) else {
            return Ok(None);
        };
        if !self.plan.actor.acts_for(organizer) {
            return Ok(None); // creating it is refused with the usual answer
        }
        Ok(self.known.get(&(organizer, external_id)).copied())
    }

    /// Updates an event through the one update path (in a savepoint of its own).
    fn update(
        &mut self,
        conn: &mut PgConnection,
        id: Uuid,
        mut fields: Map<String, Value>,
    ) -> ApiResult<(Outcome, Uuid)> {
        // The organizer was used to find the event; naming it again (by slug) is no change.
        fields.remove("organizer");
        let (_, changed) =
            repo::update_with(conn, self.geo, &self.plan.actor, id, &IfMatch::Any, &fields, &mut self.lookups)?;
        Ok((if changed { Outcome::Updated } else { Outcome::Unchanged }, id))
    }

    fn create(
        &mut self,
        conn: &mut PgConnection,
        mut fields: Map<String, Value>,
        index: usize,
    ) -> ApiResult<(Outcome, Option<Uuid>)> {
        if fields.get("edition").is_none_or(Value::is_null)
            && let Some(year) = self.default_edition
        {
            fields.insert("edition".into(), Value::from(year));
        }
        // A new event is the row merged into nothing: empty cells are simply absent.
        let mut object = Value::Object(Map::new());
        merge_patch(&mut object, &Value::Object(fields));
        let bytes = serde_json::to_vec(&object).map_err(ApiError::internal)?;
        let form: EventForm = crate::http::json::parse_json(&bytes).map_err(missing_field)?;
        validator::Validate::validate(&form)?;
        let new = repo::prepare_new(conn, self.geo, &self.plan.actor, &form, &mut self.lookups)?;
        if !self.plan.submit {
            self.new.push((index, new));
            return Ok((Outcome::Created, None));
        }
        // Submitted at once: inserted and submitted in the row's savepoint, so that a row that
        // cannot be submitted leaves no draft behind.
        let (actor, geo, now) = (&self.plan.actor, self.geo, self.plan.now);
        let id = conn.transaction(|conn| {
            let row = repo::insert_new(conn, actor, std::slice::from_ref(&new))?
                .pop()
                .ok_or_else(|| ApiError::internal("the new event was not inserted"))?;
            let transition = Transition::Submit { override_referencing_window: false };
            workflow::apply(conn, geo, actor, row, &IfMatch::Any, transition, now).map(|row| row.id)
        })?;
        Ok((Outcome::Created, Some(id)))
    }

    /// A refusal as the row's errors, each naming its line and column (or field).
    fn errors_of(&self, line: usize, error: ApiError) -> Vec<RowError> {
        let lang = self.plan.lang;
        let field_errors: Vec<FieldError> = match error {
            ApiError::Validation(errors) => errors,
            ApiError::BadRequest { errors, detail } | ApiError::Conflict { errors, detail } if errors.is_empty() => {
                vec![FieldError::new("", "invalid", detail)]
            }
            ApiError::BadRequest { errors, .. } | ApiError::Conflict { errors, .. } => errors,
            ApiError::Forbidden(message) => vec![FieldError::new("organizer", "forbidden", message)],
            other => vec![FieldError::new("", "invalid", other.to_string())],
        };
        field_errors
            .into_iter()
            .map(|error| {
                let message = match lang {
                    Lang::En => error.message.clone(),
                    Lang::Fr => wording::french(&error),
                };
                self.error(line, &error.field, &error.code, &message)
            })
            .collect()
    }
}

/// serde says a missing field about the whole object (`body`); a row's report names the field.
fn missing_field(error: ApiError) -> ApiError {
    let ApiError::BadRequest { errors, detail } = error else { return error };
    let named =
        errors.first().and_then(|e| e.message.strip_prefix("missing field `")?.split('`').next().map(String::from));
    match named {
        Some(field) => ApiError::field(&field, "required", "this field is required for a new event"),
        None => ApiError::BadRequest { errors, detail },
    }
}

/// Whether a refusal is about the row (its report) rather than a fault that ends the import.
fn is_about_the_row(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::Validation(_)
            | ApiError::BadRequest { .. }
            | ApiError::Conflict { .. }
            | ApiError::Forbidden(_)
            | ApiError::NotFound(_)
            | ApiError::PreconditionFailed(_)
    )
}
