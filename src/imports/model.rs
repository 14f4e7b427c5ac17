use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::schema::imports;

crate::text_enum! {
    /// How the rows were sent.
    pub enum ImportFormat {
        /// A JSON array of event forms.
        Json = "json",
        /// One event form per line.
        Ndjson = "ndjson",
        /// A spreadsheet saved as CSV (`;` or `,`).
        Csv = "csv",
        /// An Excel workbook: its first sheet, read as a CSV would be.
        Xlsx = "xlsx",
    }
}

crate::text_enum! {
    /// What happened to a row.
    pub enum Outcome {
        Created = "created",
        Updated = "updated",
        /// Identical to the stored event: not touched (no new version).
        Unchanged = "unchanged",
        Failed = "failed",
    }
}

/// Options of an import.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check every row and save nothing (default `false`); the report says what would happen.
    #[serde(default)]
    pub dry_run: bool,
    /// Save all rows or none (default `true`); `false` saves the valid rows and reports the others.
    pub atomic: Option<bool>,
    /// Submit the new events to moderation (while referencing is open) instead of keeping them
    /// as drafts (default `false`).
    #[serde(default)]
    pub submit: bool,
    /// Admins: the organizer (id or slug) of rows that do not name one.
    pub organizer: Option<String>,
    /// How the body is written, when its `Content-Type` does not say (`csv`, `json`, `ndjson`, `xlsx`).
    pub format: Option<ImportFormat>,
}

/// A multipart upload, as `curl -F file=@events.csv` sends it.
#[derive(Debug, ToSchema)]
pub struct ImportUpload {
    /// The file: CSV, JSON, NDJSON or XLSX (known by its name or type, or by `format`).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// One problem with a row, said so that a person can fix the file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// The event form field (`sessions[0].starts_at`).
    pub field: String,
    /// The column of the file it comes from (CSV and XLSX), as the file names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// A stable code: `not_a_date`, `required`, `unknown_lab`…
    pub code: String,
    /// A sentence naming the line and the column, in English or French (`Accept-Language`).
    pub message: String,
}

/// What happened to one input row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowReport {
    /// The line of the file (CSV, NDJSON: the physical line where the row starts; JSON: the
    /// position in the array, from 1).
    pub line: usize,
    pub external_id: Option<String>,
    pub outcome: Outcome,
    /// The event created or updated (or that would be, in a dry run).
    pub event_id: Option<Uuid>,
    pub errors: Vec<RowError>,
}

/// How many rows had each outcome.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    pub received: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
}

impl Summary {
    pub fn of(rows: &[RowReport]) -> Summary {
        let count = |outcome| rows.iter().filter(|row| row.outcome == outcome).count();
        Summary {
            received: rows.len(),
            created: count(Outcome::Created),
            updated: count(Outcome::Updated),
            unchanged: count(Outcome::Unchanged),
            failed: count(Outcome::Failed),
        }
    }
}

/// The report of an import: what happened to every row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub format: ImportFormat,
    /// `utf-8`, or `windows-1252` when the file was saved so (by Excel on Windows) and converted.
    pub encoding: String,
    pub dry_run: bool,
    pub atomic: bool,
    /// Whether the rows reported `created` and `updated` were saved: `false` for a dry run and
    /// for an atomic import with a failed row (then nothing was saved).
    pub saved: bool,
    pub summary: Summary,
    /// Said about the file as a whole (its encoding, its delimiter).
    pub notes: Vec<String>,
    pub rows: Vec<RowReport>,
}

/// An import as listed: its report without the rows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportListItem {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub format: ImportFormat,
    pub dry_run: bool,
    pub atomic: bool,
    pub saved: bool,
    pub summary: Summary,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = imports)]
pub struct ImportRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub format: String,
    pub dry_run: bool,
    pub atomic: bool,
    pub saved: bool,
    pub received: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed: i32,
}

impl From<ImportRow> for ImportListItem {
    fn from(row: ImportRow) -> Self {
        let count = |n: i32| usize::try_from(n).unwrap_or_default();
        ImportListItem {
            id: row.id,
            created_at: row.created_at,
            format: ImportFormat::parse(&row.format).unwrap_or(ImportFormat::Json),
            dry_run: row.dry_run,
            atomic: row.atomic,
            saved: row.saved,
            summary: Summary {
                received: count(row.received),
                created: count(row.created),
                updated: count(row.updated),
                unchanged: count(row.unchanged),
                failed: count(row.failed),
            },
        }
    }
}

crate::page_schema! {
    /// A page of the caller's imports, newest first.
    ImportPage of ImportListItem
}
