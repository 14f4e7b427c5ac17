//! The record of every import: its summary in columns (for lists) and its report as JSON.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{ImportReport, ImportRow};
use crate::error::{ApiError, ApiResult};
use crate::schema::imports;

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Keeps an import's report.
pub fn record(conn: &mut PgConnection, account_id: Uuid, report: &ImportReport) -> ApiResult<()> {
    let json = serde_json::to_value(report).map_err(ApiError::internal)?;
    diesel::insert_into(imports::table)
        .values((
            imports::id.eq(report.id),
            imports::account_id.eq(account_id),
            imports::created_at.eq(report.created_at),
            imports::format.eq(report.format.as_str()),
            imports::encoding.eq(&report.encoding),
            imports::dry_run.eq(report.dry_run),
            imports::atomic.eq(report.atomic),
            imports::saved.eq(report.saved),
            imports::received.eq(count(report.summary.received)),
            imports::created.eq(count(report.summary.created)),
            imports::updated.eq(count(report.summary.updated)),
            imports::unchanged.eq(count(report.summary.unchanged)),
            imports::failed.eq(count(report.summary.failed)),
            imports::report.eq(json),
        ))
        .execute(conn)?;
    Ok(())
}

/// An account's imports, newest first. `before` is the cursor: the last item's time and id.
pub fn list(
    conn: &mut PgConnection,
    account_id: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> ApiResult<(Vec<ImportRow>, i64)> {
    let total = imports::table.filter(imports::account_id.eq(account_id)).count().get_result(conn)?;
    let mut query = imports::table
        .filter(imports::account_id.eq(account_id))
        .select(ImportRow::as_select())
        .order((imports::created_at.desc(), imports::id.desc()))
        .limit(limit + 1)
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(imports::created_at.lt(at).or(imports::created_at.eq(at).and(imports::id.lt(id))));
    }
    Ok((query.load(conn)?, total))
}

/// An import's report, for its account (or any, for `any_account`).
pub fn find(conn: &mut PgConnection, id: Uuid, account_id: Uuid, any_account: bool) -> ApiResult<serde_json::Value> {
    let found: Option<(Uuid, serde_json::Value)> =
        imports::table.find(id).select((imports::account_id, imports::report)).first(conn).optional()?;
    match found {
        Some((owner, report)) if owner == account_id || any_account => Ok(report),
        _ => Err(ApiError::NotFound(format!("import `{id}`"))),
    }
}
