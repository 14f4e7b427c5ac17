//! What an export adds to the event filter, and an event as exports write it.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::events::filter::{EventFilterQuery, EventListRequest, EventSort};
use crate::events::model::{EventForm, EventRow};
use crate::events::sheet::SheetEvent;
use crate::geo::repo::Geography;
use crate::reports::table::CsvOptions;

/// What an export adds to the filters of `GET /events`: how the CSV is written.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// CSV only: start with a UTF-8 byte order mark, which Excel needs to read accents.
    pub bom: Option<bool>,
    /// CSV only: `comma` (the default) or `semicolon`, which also writes decimal commas: what a
    /// spreadsheet set to French opens without an import dialog.
    #[param(value_type = Option<crate::reports::model::Delimiter>)]
    pub delimiter: Option<String>,
}

/// The order every export walks in: soonest first, ties broken by id (the list's default
/// without `q`). A fixed order, so that the keyset walk neither skips nor repeats an event
/// (an event whose start moves while the export runs may be written at its old place or its
/// new one, or, rarely, missed or written twice: the walk is not one snapshot).
pub const EXPORT_ORDER: EventSort = EventSort::StartsAt;

impl ExportQuery {
    /// The walk through the matching events (`chunk_rows` at a time) and the CSV options, each
    /// bad parameter a 400 naming it.
    pub fn into_walk(
        self,
        filter: &EventFilterQuery,
        geo: &Geography,
        chunk_rows: i64,
    ) -> ApiResult<(EventListRequest, CsvOptions)> {
        let filter = filter.filter(geo)?;
        let csv = CsvOptions::from_query(self.bom, self.delimiter.as_deref())?;
        let request =
            EventListRequest { filter, sort: EXPORT_ORDER, limit: chunk_rows.max(1), after: None, facets: Vec::new() };
        Ok((request, csv))
    }
}

/// A binary file (an XLSX workbook), as the OpenAPI document names one.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct BinaryFile(pub Vec<u8>);

/// An event as exports write it: its form, and what only exports show.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub id: Uuid,
    pub slug: String,
    pub publication: String,
    pub form: EventForm,
}

impl ExportRow {
    pub fn new(row: EventRow, form: EventForm) -> Self {
        ExportRow { id: row.id, slug: row.slug, publication: row.publication, form }
    }

    /// As a spreadsheet row (`events::sheet`).
    pub fn sheet(&self) -> SheetEvent<'_> {
        SheetEvent { id: self.id, slug: &self.slug, publication: &self.publication, form: &self.form }
    }
}

/// One NDJSON line: the event form with the read-only keys the import matches on (`id`) or
/// ignores (`slug`, `publication`).
#[derive(Debug, Serialize)]
pub struct ExportLine<'a> {
    pub id: Uuid,
    pub slug: &'a str,
    pub publication: &'a str,
    #[serde(flatten)]
    pub form: &'a EventForm,
}

impl<'a> From<&'a ExportRow> for ExportLine<'a> {
    fn from(row: &'a ExportRow) -> Self {
        ExportLine { id: row.id, slug: &row.slug, publication: &row.publication, form: &row.form }
    }
}
