//! The report endpoints. Each report answers JSON, or CSV (`Accept: text/csv` or a `.csv`
//! address); breakdowns and series also answer SVG charts (`.svg`). All take the filters of
//! `GET /events` through the one event filter.

use actix_web::http::header::{self, Accept, Header};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;

use super::chart::{Bar, Chart};
use super::figures;
use super::model::{
    BreakdownReport, Dimension, EditionReport, EditionSeries, Include, LabsReport, RegionReport, ReportQuery,
};
use super::repo::{self, Scope};
use super::table::{self, CsvOptions};
use crate::auth::{Caller, Scope as TokenScope};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::filter::EventFilterQuery;
use crate::geo::repo::Geography;
use crate::http::conditional::Conditional;
use crate::http::query::Queries;
use crate::state::AppState;

/// How long a CDN may serve an anonymous report before asking again, in seconds.
pub const REPORT_MAX_AGE: u32 = 300;

const PROBLEM: &str = "application/problem+json";
const CSV: &str = "text/csv; charset=utf-8; header=present";
const SVG: &str = "image/svg+xml; charset=utf-8";

/// The representation asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// JSON unless `Accept` prefers `text/csv`.
fn negotiated(request: &HttpRequest) -> Format {
    let Ok(accept) = Accept::parse(request) else { return Format::Json };
    for mime in accept.ranked() {
        match (mime.type_().as_str(), mime.subtype().as_str()) {
            ("text", "csv") => return Format::Csv,
            ("application", "json") | ("application", "*") | ("*", "*") => return Format::Json,
            _ => {}
        }
    }
    Format::Json
}

/// The report's scope and CSV options from the query, once the caller may have them.
fn scope_of(
    state: &AppState,
    caller: &Caller,
    filter: &EventFilterQuery,
    options: &ReportQuery,
) -> ApiResult<(Scope, CsvOptions)> {
    let filter = filter.filter(&state.geo)?;
    let include = match options.include.as_deref().map(str::trim) {
        None => Include::Published,
        Some(value) => Include::parse(value)
            .ok_or_else(|| ApiError::bad_param("include", "must be `published` or `all_states`"))?,
    };
    if include == Include::AllStates {
        let principal = caller
            .principal()
            .ok_or_else(|| ApiError::Unauthorized("`include=all_states` needs an admin's bearer token".into()))?;
        if !principal.is_admin() {
            return Err(ApiError::Forbidden("only admins may count events in every publication state".into()));
        }
        principal.require_scope(TokenScope::ReportsRead)?;
    }
    let csv = CsvOptions::from_query(options.bom, options.delimiter.as_deref())?;
    Ok((Scope { filter, include }, csv))
}

/// Runs a report: its scope from the query (once the caller may have it), then `build` on the
/// blocking pool, all its statements in one snapshot.
async fn run_report<T: Send + 'static>(
    state: &AppState,
    caller: &Caller,
    query: &Queries<EventFilterQuery, ReportQuery>,
    build: impl FnOnce(&mut PgConnection, &Geography, &Scope) -> ApiResult<repo::Dated<T>> + Send + 'static,
) -> ApiResult<(repo::Dated<T>, CsvOptions)> {
    let (scope, options) = scope_of(state, caller, &query.0, &query.1)?;
    let geo = state.geo.clone();
    let dated = db::run(&state.pool, move |conn| figures::in_snapshot(conn, |conn| build(conn, &geo, &scope))).await?;
    Ok((dated, options))
}

fn answer(last_modified: Option<DateTime<Utc>>) -> Conditional {
    Conditional::ok().last_modified(last_modified).shared_for(REPORT_MAX_AGE)
}

/// The report as JSON or CSV (a download named `filename`).
fn respond<T: Serialize>(
    request: &HttpRequest,
    report: &T,
    last_modified: Option<DateTime<Utc>>,
    format: Format,
    filename: &str,
    csv: impl FnOnce(&T) -> ApiResult<Vec<u8>>,
) -> ApiResult<HttpResponse> {
    let answer = answer(last_modified).negotiated();
    match format {
        Format::Json => Ok(answer.json(request, report)),
        Format::Csv => {
            let mut response = answer.send(request, csv(report)?, CSV);
            let disposition = format!("attachment; filename=\"{filename}\"");
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, disposition.parse().map_err(ApiError::internal)?);
            Ok(response)
        }
    }
}

/// Charts are made to be embedded by other sites (`<img>`, `<object>`, `<iframe>`): any page may
/// frame them, and they load nothing.
const SVG_POLICY: &str = "default-src 'none'; frame-ancestors *";

fn svg(request: &HttpRequest, chart: Chart, last_modified: Option<DateTime<Utc>>) -> ApiResult<HttpResponse> {
    let mut response = answer(last_modified).send(request, chart.to_svg()?.into_bytes(), SVG);
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, header::HeaderValue::from_static(SVG_POLICY));
    Ok(response)
}

fn subtitle(report_of: &str, include: Include) -> String {
    match include {
        Include::Published => format!("{report_of}, événements publiés"),
        Include::AllStates => format!("{report_of}, tous les événements référencés"),
    }
}

// ---- /reports/editions: the series ----

async fn series(
    state: &AppState,
    caller: &Caller,
    query: &Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<(repo::Dated<EditionSeries>, CsvOptions)> {
    run_report(state, caller, query, |conn, _, scope| repo::series(conn, scope)).await
}

/// Every edition in figures, oldest first: one row per edition for charts over the years.
///
/// Takes every filter of `GET /events` (`region=53`: Brittany's editions). Answers CSV to
/// `Accept: text/csv` (the columns of `/reports/editions.csv`).
#[utoipa::path(
    tag = "reports",
    params(EventFilterQuery, ReportQuery),
    responses(
        (status = 200, description = "The editions in figures", content((EditionSeries = "application/json"), (String = "text/csv"))),
    )
)]
#[get("/reports/editions")]
pub async fn edition_series(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let (dated, options) = series(&state, &caller, &query).await?;
    let format = negotiated(&request);
    respond(&request, &dated.report, dated.last_modified, format, "mip-editions.csv", |r| table::series(r, options))
}

/// Every edition in figures, as CSV: `year,title,theme,events,sessions,organizers,…`.
#[utoipa::path(
    tag = "reports",
    params(EventFilterQuery, ReportQuery),
    responses(
        (status = 200, description = "One row per edition", body = String, content_type = "text/csv"),
    )
)]
#[get("/reports/editions.csv")]
pub async fn edition_series_csv(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let (dated, options) = series(&state, &caller, &query).await?;
    respond(&request, &dated.report, dated.last_modified, Format::Csv, "mip-editions.csv", |r| {
        table::series(r, options)
    })
}

/// Events per edition, as an SVG bar chart.
#[utoipa::path(
    tag = "reports",
    params(EventFilterQuery, ReportQuery),
    responses(
        (status = 200, description = "An accessible SVG bar chart", body = String, content_type = "image/svg+xml"),
    )
)]
#[get("/reports/editions.svg")]
pub async fn edition_series_svg(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let (dated, _) = series(&state, &caller, &query).await?;
    let chart = Chart {
        title: "Événements par édition".into(),
        subtitle: subtitle("Mois de l'innovation publique", dated.report.include),
        bars: dated.report.data.iter().map(|e| Bar { label: e.year.to_string(), value: e.totals.events }).collect(),
    };
    svg(&request, chart, dated.last_modified)
}

// ---- /reports/editions/{year} ----

async fn edition(
    state: &AppState,
    caller: &Caller,
    year: i32,
    query: &Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<(repo::Dated<EditionReport>, CsvOptions)> {
    run_report(state, caller, query, move |conn, geo, scope| repo::edition_report(conn, geo, scope, year)).await
}

/// An edition in figures: totals, every breakdown, and the change from the previous edition.
///
/// Takes every filter of `GET /events` but `edition` (the path gives it): "Brittany's 2021" is
/// `/reports/editions/2021?region=53`, a lab's month `?lab=ti-lab`. Published events only,
/// unless an admin adds `include=all_states` (then also the moderation figures). Answers CSV
/// to `Accept: text/csv` (see `/reports/editions/{year}.csv`).
#[utoipa::path(
    tag = "reports",
    params(("year" = i32, Path, description = "The edition's year", example = 2021), EventFilterQuery, ReportQuery),
    responses(
        (status = 200, description = "The edition in figures", content((EditionReport = "application/json"), (String = "text/csv"))),
        (status = 404, description = "No such edition", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/reports/editions/{year}")]
pub async fn edition_report(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    year: web::Path<i32>,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let year = year.into_inner();
    let (dated, options) = edition(&state, &caller, year, &query).await?;
    let filename = format!("mip-{year}.csv");
    respond(&request, &dated.report, dated.last_modified, negotiated(&request), &filename, |r| {
        table::edition(r, options)
    })
}

/// An edition in figures as one CSV table: a `total` row, then every breakdown's rows, with the
/// columns `dimension,code,label,events,sessions,share,previous_events,change`.
#[utoipa::path(
    tag = "reports",
    params(("year" = i32, Path, description = "The edition's year", example = 2021), EventFilterQuery, ReportQuery),
    responses(
        (status = 200, description = "The edition as one long table", body = String, content_type = "text/csv"),
        (status = 404, description = "No such edition", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/reports/editions/{year}.csv")]
pub async fn edition_report_csv(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    year: web::Path<i32>,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let year = year.into_inner();
    let (dated, options) = edition(&state, &caller, year, &query).await?;
    let filename = format!("mip-{year}.csv");
    respond(&request, &dated.report, dated.last_modified, Format::Csv, &filename, |r| table::edition(r, options))
}

// ---- /reports/editions/{year}/by/{dimension} ----

fn dimension_path((year, dimension): (i32, String)) -> ApiResult<(i32, Dimension)> {
    let all: Vec<&str> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
    let parsed = Dimension::parse(&dimension)
        .ok_or_else(|| ApiError::bad_param("dimension", format!("must be one of {}", all.join(", "))))?;
    Ok((year, parsed))
}

async fn by_dimension(
    state: &AppState,
    caller: &Caller,
    (year, dimension): (i32, Dimension),
    query: &Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<(repo::Dated<BreakdownReport>, CsvOptions)> {
    run_report(state, caller, query, move |conn, geo, scope| {
        if dimension == Dimension::Publication && scope.include != Include::AllStates {
            return Err(ApiError::bad_param("dimension", "`publication` goes with `include=all_states`"));
        }
        repo::breakdown_report(conn, geo, scope, year, dimension)
    })
    .await
}

/// One breakdown of an edition, with the previous edition's counts: what one chart or one
/// spreadsheet table shows. Answers CSV to `Accept: text/csv`.
#[utoipa::path(
    tag = "reports",
    params(
        ("year" = i32, Path, description = "The edition's year", example = 2021),
        ("dimension" = Dimension, Path, description = "What to count events along"),
        EventFilterQuery, ReportQuery
    ),
    responses(
        (status = 200, description = "The breakdown", content((BreakdownReport = "application/json"), (String = "text/csv"))),
        (status = 404, description = "No such edition", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/reports/editions/{year}/by/{dimension}")]
pub async fn breakdown_report(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    path: web::Path<(i32, String)>,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let (year, dimension) = dimension_path(path.into_inner())?;
    let (dated, options) = by_dimension(&state, &caller, (year, dimension), &query).await?;
    let filename = format!("mip-{year}-{dimension}.csv");
    let format = negotiated(&request);
    respond(&request, &dated.report, dated.last_modified, format, &filename, |r| table::breakdown(r, options))
}

/// One breakdown of an edition as CSV: `code,label,events,sessions,share,previous_events,change`.
#[utoipa::path(
    tag = "reports",
    params(
        ("year" = i32, Path, description = "The edition's year", example = 2021),
        ("dimension" = Dimension, Path, description = "What to count events along"),
        EventFilterQuery, ReportQuery
    ),
    responses(
        (status = 200, description = "One table", body = String, content_type = "text/csv"),
        (status = 404, description = "No such edition", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/reports/editions/{year}/by/{dimension}.csv")]
pub async fn breakdown_report_csv(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    path: web::Path<(i32, String)>,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let (year, dimension) = dimension_path(path.into_inner())?;
    let (dated, options) = by_dimension(&state, &caller, (year, dimension), &query).await?;
    let filename = format!("mip-{year}-{dimension}.csv");
    respond(&request, &dated.report, dated.last_modified, Format::Csv, &filename, |r| table::breakdown(r, options))
}

/// One breakdown of an edition as an accessible SVG bar chart, 600 px wide, to embed as it is.
#[utoipa::path(
    tag = "reports",
    params(
        ("year" = i32, Path, description = "The edition's year", example = 2021),
        ("dimension" = Dimension, Path, description = "What to count events along"),
        EventFilterQuery, ReportQuery
    ),
    responses(
        (status = 200, description = "An SVG bar chart with a title and a description", body = String, content_type = "image/svg+xml"),
        (status = 404, description = "No such edition", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/reports/editions/{year}/by/{dimension}.svg")]
pub async fn breakdown_report_svg(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    path: web::Path<(i32, String)>,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let (year, dimension) = dimension_path(path.into_inner())?;
    let (dated, _) = by_dimension(&state, &caller, (year, dimension), &query).await?;
    let report = &dated.report;
    let chart = Chart {
        title: format!("Événements par {}", report.title.to_lowercase()),
        subtitle: subtitle(&format!("{} ({} événements)", report.edition.title, report.events), report.include),
        // Rows kept only for the comparison (none this edition) are not drawn.
        bars: report
            .rows
            .iter()
            .filter(|row| row.events > 0)
            .map(|row| Bar { label: row.label.clone(), value: row.events })
            .collect(),
    };
    svg(&request, chart, dated.last_modified)
}

// ---- /reports/labs ----

async fn labs(
    state: &AppState,
    caller: &Caller,
    query: &Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<(repo::Dated<LabsReport>, CsvOptions)> {
    run_report(state, caller, query, repo::labs_report).await
}

/// Per territorial lab: the events it runs, their sessions and organizers, its region, and its
/// own yearly figures when one `edition` is given. Takes every filter of `GET /events`.
#[utoipa::path(
    tag = "reports",
    params(EventFilterQuery, ReportQuery),
    responses(
        (status = 200, description = "Every lab in figures", content((LabsReport = "application/json"), (String = "text/csv"))),
    )
)]
#[get("/reports/labs")]
pub async fn labs_report(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let (dated, options) = labs(&state, &caller, &query).await?;
    let format = negotiated(&request);
    respond(&request, &dated.report, dated.last_modified, format, "mip-labs.csv", |r| table::labs(r, options))
}

/// Per territorial lab, as CSV: `slug,name,region,region_name,active,events,sessions,organizers,…`.
#[utoipa::path(
    tag = "reports",
    params(EventFilterQuery, ReportQuery),
    responses(
        (status = 200, description = "One row per lab", body = String, content_type = "text/csv"),
    )
)]
#[get("/reports/labs.csv")]
pub async fn labs_report_csv(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let (dated, options) = labs(&state, &caller, &query).await?;
    respond(&request, &dated.report, dated.last_modified, Format::Csv, "mip-labs.csv", |r| table::labs(r, options))
}

/// Events per territorial lab, as an SVG bar chart.
#[utoipa::path(
    tag = "reports",
    params(EventFilterQuery, ReportQuery),
    responses(
        (status = 200, description = "An accessible SVG bar chart", body = String, content_type = "image/svg+xml"),
    )
)]
#[get("/reports/labs.svg")]
pub async fn labs_report_svg(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let (dated, _) = labs(&state, &caller, &query).await?;
    let report = &dated.report;
    let editions: Vec<String> = report.editions.iter().map(i32::to_string).collect();
    let chart = Chart {
        title: "Événements par laboratoire d'innovation territoriale".into(),
        subtitle: subtitle(&format!("Éditions {}", editions.join(", ")), report.include),
        bars: report.data.iter().map(|lab| Bar { label: lab.name.clone(), value: lab.events }).collect(),
    };
    svg(&request, chart, dated.last_modified)
}

// ---- /reports/regions/{code} ----

async fn region(
    state: &AppState,
    caller: &Caller,
    code: String,
    query: &Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<(repo::Dated<RegionReport>, CsvOptions)> {
    run_report(state, caller, query, move |conn, geo, scope| repo::region_report(conn, geo, scope, &code)).await
}

/// A region's month: its events in figures, its labs, its organizers. Takes every filter of
/// `GET /events` but `region` (the path gives it); `edition=2021` for one edition.
#[utoipa::path(
    tag = "reports",
    params(("code" = String, Path, description = "The region's INSEE code", example = "53"), EventFilterQuery, ReportQuery),
    responses(
        (status = 200, description = "The region in figures", content((RegionReport = "application/json"), (String = "text/csv"))),
        (status = 404, description = "No such region", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/reports/regions/{code}")]
pub async fn region_report(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    code: web::Path<String>,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let code = code.into_inner();
    let filename = format!("mip-region-{code}.csv");
    let (dated, options) = region(&state, &caller, code, &query).await?;
    let format = negotiated(&request);
    respond(&request, &dated.report, dated.last_modified, format, &filename, |r| table::region(r, options))
}

/// A region's month as one CSV table: `total`, every breakdown, then its `organizer` rows.
#[utoipa::path(
    tag = "reports",
    params(("code" = String, Path, description = "The region's INSEE code", example = "53"), EventFilterQuery, ReportQuery),
    responses(
        (status = 200, description = "The region as one long table", body = String, content_type = "text/csv"),
        (status = 404, description = "No such region", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/reports/regions/{code}.csv")]
pub async fn region_report_csv(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    code: web::Path<String>,
    query: Queries<EventFilterQuery, ReportQuery>,
) -> ApiResult<HttpResponse> {
    let code = code.into_inner();
    let filename = format!("mip-region-{code}.csv");
    let (dated, options) = region(&state, &caller, code, &query).await?;
    respond(&request, &dated.report, dated.last_modified, Format::Csv, &filename, |r| table::region(r, options))
}

/// What every report shares, declared once (after the API's conventions: 304, 400, 401): the
/// 403 of `include=all_states`. And the filter parameters a report takes from its path are not
/// also query parameters there: `edition` under `/reports/editions/{year}…`, `region` under
/// `/reports/regions/{code}…`.
pub fn document(spec: &mut utoipa::openapi::OpenApi) {
    for (path, item) in spec.paths.paths.iter_mut() {
        if let Some(operation) = item.get.as_mut().filter(|_| path.starts_with("/api/v1/reports/")) {
            let forbidden = "`include=all_states` from a caller who is not an admin, or with an API token \
                             without `reports:read` (401 without a token)";
            crate::http::openapi::problem(operation, "403", forbidden);
        }
        let from_path = if path.starts_with("/api/v1/reports/editions/{year}") {
            "edition"
        } else if path.starts_with("/api/v1/reports/regions/{code}") {
            "region"
        } else {
            continue;
        };
        if let Some(parameters) = item.get.as_mut().and_then(|operation| operation.parameters.as_mut()) {
            parameters.retain(|parameter| match parameter {
                utoipa::openapi::RefOr::T(parameter) => {
                    parameter.name != from_path || parameter.parameter_in != utoipa::openapi::path::ParameterIn::Query
                }
                utoipa::openapi::RefOr::Ref(_) => true,
            });
        }
    }
}
