//! The import endpoints: send rows (JSON, NDJSON, CSV, XLSX, or a multipart upload of one),
//! read the report back, list one's imports, and download the CSV template.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::apply::{self, Plan};
use super::body;
use super::model::{ImportListItem, ImportPage, ImportQuery, ImportReport, Summary};
use super::repo;
use super::rows;
use super::template;
use crate::auth::{Authenticated, Caller, Scope};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::conditional::Conditional;
use crate::http::json::body_timeout;
use crate::http::language::Lang;
use crate::http::pagination::{PageParams, page};
use crate::http::query::Query;
use crate::idempotency::{self, Claim, Claimed};

use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";
const JSON: &str = "application/json";

/// An import's body may take this many times the usual body timeout to arrive: a file of
/// several megabytes over a slow uplink.
const BODY_TIMEOUT_FACTOR: u32 = 6;

/// Import events from a spreadsheet or another agenda: upsert by id or `external_id`.
///
/// The body is a JSON array of event forms (`POST /events`'s body), NDJSON (one per line),
/// CSV (`;` or `,`, UTF-8 or Windows-1252, dates `dd/mm/yyyy hh:mm` in the event's timezone;
/// see the template), or an XLSX workbook; or any of them as the `file` part of a multipart
/// upload (`curl -F file=@events.csv`). Each row goes through the rules of `POST` and `PATCH
/// /events`: new rows are created as drafts (or submitted, with `submit=true`), changed rows
/// are updated (a new version, a history entry), identical rows are `unchanged`.
///
/// The answer is the report: a summary and, per row, its line, outcome, event and errors
/// (in French with `Accept-Language: fr`). An atomic import with a failed row saves nothing
/// and answers `422` with the report in the problem. `Idempotency-Key` makes a retry replay
/// the first answer.
#[utoipa::path(
    tag = "imports",
    params(
        ImportQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer to a retry (kept 24 h, bound to the caller and the request)"),
    ),
    // One documented media type, the file upload that every client and generator handles (the
    // Python generator breaks on operations with several request types); the same file may
    // also be sent as the body with its own `Content-Type`, as the description says.
    request_body(
        description = "The file, as the `file` part of a multipart upload (`curl -F file=@events.csv`). The same \
                       file is also accepted as the whole body with its type: `application/json` (an array of \
                       event forms), `application/x-ndjson`, `text/csv`, or the XLSX type",
        content((super::model::ImportUpload = "multipart/form-data")),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report (a dry run, or rows saved)", body = ImportReport),
        (status = 400, description = "The file cannot be read (malformed JSON, a quote never closed)", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A token without `imports:write`", body = Problem, content_type = PROBLEM),
        (status = 409, description = "A request with this `Idempotency-Key` is still running", body = Problem, content_type = PROBLEM),
        (status = 413, description = "Past the size or row limit (the problem says which)", body = Problem, content_type = PROBLEM),
        (status = 422, description = "An atomic import with a failed row: nothing saved; the report is in the problem. Or unknown columns, or an `Idempotency-Key` reused for another request", body = Problem, content_type = PROBLEM),
    )
)]
#[post("/imports/events")]
pub async fn import_events(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Authenticated,
    query: Query<ImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let principal = caller.caller().authenticated()?.clone();
    principal.require_scope(Scope::ImportsWrite)?;
    let query = query.0;
    let timeout = body_timeout(&request) * BODY_TIMEOUT_FACTOR;
    let upload = body::read(&request, payload, query.format, state.settings.import_max_bytes, timeout).await?;
    let claimed = match idempotency::key_of(&request)? {
        None => None,
        Some(key) => {
            let digest = idempotency::request_digest(&request, &upload.bytes);
            match idempotency::claim(&state.pool, principal.account_id, key, digest, import_location).await? {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Run(claimed) => Some(claimed),
            }
        }
    };
    // Released if the import fails, or if this future is dropped before it answers.
    let guard = idempotency::ClaimGuard::new(&state.pool, claimed);
    let answer = run(&state, &request, principal, query, upload, guard.claimed()).await;
    if answer.is_ok() {
        guard.keep();
    }
    answer
}

/// Where an import's report is, from the report (or the failed import's problem) itself.
fn import_location(answer: &serde_json::Value) -> Option<String> {
    answer.get("id").and_then(serde_json::Value::as_str).map(|id| format!("/api/v1/imports/{id}"))
}

/// Reads the rows, applies them in one transaction with the import's record (and the stored
/// answer of its idempotency key), and answers the report.
async fn run(
    state: &AppState,
    request: &HttpRequest,
    principal: crate::auth::Principal,
    query: ImportQuery,
    upload: body::Upload,
    claimed: Option<Claimed>,
) -> ApiResult<HttpResponse> {
    let lang = Lang::of(request);
    let max_rows = state.settings.import_max_rows;
    let format = upload.format;
    let parsed = web::block(crate::telemetry::carry(move || rows::parse(&upload.bytes, format, lang, max_rows)))
        .await
        .map_err(ApiError::internal)??;
    let geo = state.geo.clone();
    let now = state.clock.now();
    let account_id = principal.account_id;
    let atomic = query.atomic.unwrap_or(true);
    let plan = Plan {
        actor: principal,
        organizer: query.organizer,
        dry_run: query.dry_run,
        atomic,
        submit: query.submit,
        lang,
        now,
    };
    let (status, content_type, body, id) = db::transaction(&state.pool, move |conn| {
        if let Some(claimed) = &claimed {
            idempotency::hold(conn, claimed)?;
        }
        let encoding = parsed.encoding.to_string();
        let notes = parsed.notes.clone();
        let applied = apply::apply(conn, &geo, &plan, parsed)?;
        let report = ImportReport {
            id: Uuid::now_v7(),
            created_at: now,
            format,
            encoding,
            dry_run: plan.dry_run,
            atomic,
            saved: applied.saved,
            summary: Summary::of(&applied.rows),
            notes,
            rows: applied.rows,
        };
        repo::record(conn, account_id, &report)?;
        let (status, content_type, body) = answer(&report, plan.lang)?;
        if let Some(claimed) = &claimed {
            idempotency::complete(conn, claimed, status, content_type, &body)?;
        }
        Ok((status, content_type, body, report.id))
    })
    .await?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::LOCATION, format!("/api/v1/imports/{id}")))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(body))
}

/// A failed atomic import, as a problem (RFC 9457) that carries the report as extension
/// members, and its failed rows' errors in `errors` (`rows[3].sessions[0].starts_at`).
#[derive(Serialize)]
struct FailedImport<'a> {
    #[serde(flatten)]
    problem: Problem,
    #[serde(flatten)]
    report: &'a ImportReport,
}

fn answer(report: &ImportReport, lang: Lang) -> ApiResult<(StatusCode, &'static str, Vec<u8>)> {
    let failed_atomically = report.atomic && !report.dry_run && report.summary.failed > 0;
    if !failed_atomically {
        let body = serde_json::to_vec(report).map_err(ApiError::internal)?;
        return Ok((StatusCode::OK, JSON, body));
    }
    let errors: Vec<crate::error::FieldError> = report
        .rows
        .iter()
        .enumerate()
        .flat_map(|(index, row)| {
            row.errors.iter().map(move |error| {
                let field = if error.field.is_empty() {
                    format!("rows[{index}]")
                } else {
                    format!("rows[{index}].{}", error.field)
                };
                crate::error::FieldError::new(field, error.code.clone(), error.message.clone())
            })
        })
        .collect();
    let mut problem = ApiError::Validation(errors).to_problem();
    problem.problem_type = "urn:mip:problem:import-failed".into();
    problem.title = "The import was not saved".into();
    problem.detail = lang.pick(
        format!(
            "{} of {} rows break a rule; nothing was saved (fix them, or send atomic=false to save the others)",
            report.summary.failed, report.summary.received
        ),
        format!(
            "{} lignes sur {} enfreignent une règle ; rien n'a été enregistré (corrigez-les, ou envoyez atomic=false pour enregistrer les autres)",
            report.summary.failed, report.summary.received
        ),
    );
    let body = serde_json::to_vec(&FailedImport { problem, report }).map_err(ApiError::internal)?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, PROBLEM, body))
}

/// The caller's imports, newest first, with their summaries.
#[utoipa::path(
    tag = "imports",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of imports", body = ImportPage),
        (status = 400, description = "Bad `limit` or `cursor`", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/imports")]
pub async fn list_imports(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Authenticated,
    params: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let principal = caller.caller().authenticated()?.clone();
    principal.require_scope(Scope::ImportsWrite)?;
    let account_id = principal.account_id;
    let limit = params.limit()?;
    let before = params.cursor::<(DateTime<Utc>, Uuid)>("imports")?;
    let (rows, total) = db::run(&state.pool, move |conn| repo::list(conn, account_id, before, limit)).await?;
    let body = page(rows, limit, total, "imports", |row| (row.created_at, row.id)).map(ImportListItem::from);
    Ok(Conditional::ok().json(&request, &body))
}

/// One import's report, again (its caller's; admins see any).
#[utoipa::path(
    tag = "imports",
    params(("id" = Uuid, Path, description = "The import's id (the report's `id`, or the `Location` of the answer)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report", body = ImportReport),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such import of yours", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/imports/{id}")]
pub async fn get_import(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let principal = caller.authenticated()?.clone();
    principal.require_scope(Scope::ImportsWrite)?;
    let id = id.into_inner();
    let report =
        db::run(&state.pool, move |conn| repo::find(conn, id, principal.account_id, principal.has_admin_powers()))
            .await?;
    Ok(Conditional::ok().json(&request, &report))
}

/// The CSV template: every column (English names; the French aliases are accepted too), an
/// example row, `;`-separated with a byte order mark so that Excel in French opens it as is.
#[utoipa::path(
    tag = "imports",
    responses(
        (status = 200, description = "The template", content_type = "text/csv", body = String),
    )
)]
#[get("/imports/events/template.csv")]
pub async fn import_template(request: HttpRequest) -> ApiResult<HttpResponse> {
    let bytes = template::csv()?;
    let mut response = Conditional::ok().shared_for(3600).send(&request, bytes, "text/csv; charset=utf-8");
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"mip-events-template.csv\""),
    );
    Ok(response)
}
