//! The export endpoints: every event the caller may see under the filters of `GET /events`,
//! as CSV, NDJSON or XLSX, read by keyset a chunk at a time.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use super::model::ExportQuery;
use super::walk::Walk;
use super::writers::{self, ChunkWriter, CsvExport, NdjsonExport, XlsxExport};
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::events::filter::{EventFilterQuery, Viewer};
use crate::http::query::Queries;
use crate::reports::table::CsvOptions;
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";
const CSV: &str = "text/csv; charset=utf-8";
const NDJSON: &str = "application/x-ndjson";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The walk through the caller's events under the query, and the CSV options: a bad parameter
/// is a 400 naming it, as for `GET /events`.
fn walk_of(
    state: &AppState,
    caller: &Caller,
    query: Queries<EventFilterQuery, ExportQuery>,
) -> ApiResult<(Walk, CsvOptions)> {
    let Queries(filter, export) = query;
    let (request, csv) = export.into_walk(&filter, &state.geo, state.settings.export_chunk_rows)?;
    Ok((Walk::new(state.pool.clone(), request, Viewer::of(caller)), csv))
}

/// A download: not kept by caches (it may hold drafts), saved under `filename`.
fn download(content_type: &str, filename: &str) -> actix_web::HttpResponseBuilder {
    let mut answer = HttpResponse::Ok();
    answer
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .insert_header((header::CACHE_CONTROL, "private, no-store"));
    answer
}

/// A text export: the first chunk is read before answering (so that a failure then is still a
/// problem document), the rest while the body streams.
async fn stream_text<W: ChunkWriter>(
    mut walk: Walk,
    writer: W,
    content_type: &str,
    filename: &str,
) -> ApiResult<HttpResponse> {
    let first = walk.next().await?;
    Ok(download(content_type, filename).streaming(writers::text_body(walk, first, writer)))
}

/// Every event you may see under the filters of `GET /events`, as CSV (RFC 4180, UTF-8).
///
/// The columns are those of the spreadsheet form of an event (`id`, `external_id`, `organizer`,
/// `edition`, … `slug`, `publication`); an import reads the file back. Same visibility as
/// `GET /events`: published events for everyone, an organizer's other events for its members,
/// every event for admins. Soonest first (ties by id), streamed as it is read: a failure after
/// the first bytes cuts the transfer short rather than ending the file cleanly.
#[utoipa::path(
    tag = "exports",
    params(EventFilterQuery, ExportQuery),
    responses(
        (status = 200, description = "A CSV file, one row per event, its header first", body = String, content_type = "text/csv",
         headers(("content-disposition" = String, description = "`attachment; filename=\"events.csv\"`"))),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = PROBLEM),
        (status = 401, description = "A bearer token that is not valid", body = Problem, content_type = PROBLEM),
        (status = 503, description = "The database is unavailable (before the first byte)", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/exports/events.csv")]
pub async fn events_csv(
    state: web::Data<AppState>,
    caller: Caller,
    query: Queries<EventFilterQuery, ExportQuery>,
) -> ApiResult<HttpResponse> {
    let (walk, csv) = walk_of(&state, &caller, query)?;
    stream_text(walk, CsvExport(csv), CSV, "events.csv").await
}

/// Every event you may see under the filters of `GET /events`, as NDJSON: one event form per
/// line, with its read-only `id`, `slug` and `publication`: what the import reads back.
///
/// Same visibility, order and streaming as the CSV export; `bom` and `delimiter` do not apply.
#[utoipa::path(
    tag = "exports",
    params(EventFilterQuery, ExportQuery),
    responses(
        (status = 200, description = "One JSON object per line: an event form with `id`, `slug` and `publication`", body = String,
         content_type = "application/x-ndjson",
         headers(("content-disposition" = String, description = "`attachment; filename=\"events.ndjson\"`"))),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = PROBLEM),
        (status = 401, description = "A bearer token that is not valid", body = Problem, content_type = PROBLEM),
        (status = 503, description = "The database is unavailable (before the first byte)", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/exports/events.ndjson")]
pub async fn events_ndjson(
    state: web::Data<AppState>,
    caller: Caller,
    query: Queries<EventFilterQuery, ExportQuery>,
) -> ApiResult<HttpResponse> {
    let (walk, _) = walk_of(&state, &caller, query)?;
    stream_text(walk, NdjsonExport, NDJSON, "events.ndjson").await
}

/// Every event you may see under the filters of `GET /events`, as an XLSX workbook: one sheet,
/// `events`, with the columns of the CSV export, a frozen header, numbers, booleans and dates as
/// such (dates in the event's local time).
///
/// The workbook is written whole before the answer begins (a zip is only valid once finished),
/// so it arrives after a wait, and any failure is a problem document. At most 1,048,575 events
/// (a sheet's limit): beyond, a 400 asks for narrower filters or another format.
#[utoipa::path(
    tag = "exports",
    params(EventFilterQuery, ExportQuery),
    responses(
        (status = 200, description = "An XLSX workbook", body = super::model::BinaryFile,
         content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         headers(("content-disposition" = String, description = "`attachment; filename=\"events.xlsx\"`"))),
        (status = 400, description = "A bad parameter, named, or more events than a sheet holds", body = Problem, content_type = PROBLEM),
        (status = 401, description = "A bearer token that is not valid", body = Problem, content_type = PROBLEM),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/exports/events.xlsx")]
pub async fn events_xlsx(
    state: web::Data<AppState>,
    caller: Caller,
    query: Queries<EventFilterQuery, ExportQuery>,
) -> ApiResult<HttpResponse> {
    let (mut walk, _) = walk_of(&state, &caller, query)?;
    // The trade-off: an XLSX file is a zip whose directory comes last, so no byte of it can be
    // sent before it is finished. It is built first, a chunk at a time as for CSV (one short
    // query per chunk, the rows written on the blocking pool into the sheet's temporary file,
    // constant memory), then saved to an anonymous temporary file that is streamed. The client
    // waits longer for the first byte (seconds for 100,000 events) and the server needs disk
    // for one file per export under way, but memory stays flat, and since nothing was sent
    // before the file is whole, every failure is still a problem document, never a truncated
    // workbook that a spreadsheet would refuse to open.
    let mut book = web::block(XlsxExport::new).await??;
    while let Some(rows) = walk.next().await? {
        book = web::block(move || {
            let mut book = book;
            book.rows(&rows)?;
            Ok::<_, crate::error::ApiError>(book)
        })
        .await??;
    }
    let file = web::block(move || book.finish()).await??;
    Ok(download(XLSX, "events.xlsx").streaming(writers::file_body(file, walk.origin)))
}
