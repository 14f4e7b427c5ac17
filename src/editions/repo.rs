use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{
    EditionDates, EditionForm, EditionOut, EditionPatch, EditionRow, TrackForm, TrackPatch, TrackRow, check_dates,
    check_patch_lengths,
};
use crate::error::{ApiError, ApiResult};
use crate::http::conditional::IfMatch;
use crate::http::fields::slugify;
use crate::schema::{editions, tracks};

fn not_found(year: i32) -> ApiError {
    ApiError::NotFound(format!("edition {year}"))
}

pub fn find_row(conn: &mut PgConnection, year: i32) -> ApiResult<EditionRow> {
    editions::table.find(year).select(EditionRow::as_select()).first(conn).optional()?.ok_or_else(|| not_found(year))
}

fn tracks_of(conn: &mut PgConnection, years: &[i32]) -> QueryResult<Vec<TrackRow>> {
    tracks::table
        .filter(tracks::edition_year.eq_any(years))
        .order((tracks::position, tracks::slug))
        .select(TrackRow::as_select())
        .load(conn)
}

/// Editions as answered, with their tracks, and their phase as of `now` (the service's clock).
fn with_tracks(conn: &mut PgConnection, rows: Vec<EditionRow>, now: DateTime<Utc>) -> ApiResult<Vec<EditionOut>> {
    let years: Vec<i32> = rows.iter().map(|r| r.year).collect();
    let mut all_tracks = tracks_of(conn, &years)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                std::mem::take(&mut all_tracks).into_iter().partition(|t| t.edition_year == row.year);
            all_tracks = rest;
            EditionOut::new(row, mine, now)
        })
        .collect())
}

pub fn find(conn: &mut PgConnection, year: i32, now: DateTime<Utc>) -> ApiResult<EditionOut> {
    let row = find_row(conn, year)?;
    with_tracks(conn, vec![row], now)?.pop().ok_or_else(|| not_found(year))
}

/// Newest first. `before_year` is the cursor: the last year of the previous page.
pub fn list(
    conn: &mut PgConnection,
    before_year: Option<i32>,
    limit: i64,
    now: DateTime<Utc>,
) -> ApiResult<(Vec<EditionOut>, i64)> {
    let total = editions::table.count().get_result(conn)?;
    let mut query =
        editions::table.select(EditionRow::as_select()).order(editions::year.desc()).limit(limit + 1).into_boxed();
    if let Some(year) = before_year {
        query = query.filter(editions::year.lt(year));
    }
    let rows = query.load(conn)?;
    Ok((with_tracks(conn, rows, now)?, total))
}

pub fn create(conn: &mut PgConnection, form: &EditionForm, now: DateTime<Utc>) -> ApiResult<EditionOut> {
    let errors = check_dates(&EditionDates {
        starts_on: form.starts_on,
        ends_on: form.ends_on,
        referencing_opens_at: form.referencing_opens_at,
        referencing_closes_at: form.referencing_closes_at,
    });
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    diesel::insert_into(editions::table).values(form).execute(conn)?;
    find(conn, form.year, now)
}

/// Applies a patch when `If-Match` is current; the merged dates must
/// still respect the rules.
pub fn update(
    conn: &mut PgConnection,
    year: i32,
    if_match: &IfMatch,
    patch: &EditionPatch,
    now: DateTime<Utc>,
) -> ApiResult<EditionOut> {
    conn.transaction(|conn| {
        let current: EditionRow = editions::table
            .find(year)
            .select(EditionRow::as_select())
            .for_update()
            .first(conn)
            .optional()?
            .ok_or_else(|| not_found(year))?;
        if_match.check(current.version)?;
        let mut errors = check_patch_lengths(patch);
        errors.extend(check_dates(&EditionDates {
            starts_on: patch.starts_on.unwrap_or(current.starts_on),
            ends_on: patch.ends_on.unwrap_or(current.ends_on),
            referencing_opens_at: patch.referencing_opens_at.unwrap_or(current.referencing_opens_at),
            referencing_closes_at: patch.referencing_closes_at.unwrap_or(current.referencing_closes_at),
        }));
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        match diesel::update(editions::table.find(year)).set(patch).execute(conn) {
            Ok(_) | Err(diesel::result::Error::QueryBuilderError(_)) => {} // an empty patch changes nothing
            Err(error) => return Err(error.into()),
        }
        find(conn, year, now)
    })
}

/// Deletes an edition at the version `If-Match` names (refused while events or tracks use it).
pub fn delete(conn: &mut PgConnection, year: i32, if_match: &IfMatch) -> ApiResult<()> {
    conn.transaction(|conn| {
        let current: EditionRow = editions::table
            .find(year)
            .select(EditionRow::as_select())
            .for_update()
            .first(conn)
            .optional()?
            .ok_or_else(|| not_found(year))?;
        if_match.check(current.version)?;
        diesel::delete(editions::table.find(year)).execute(conn)?;
        Ok(())
    })
}

fn track_not_found(year: i32, slug: &str) -> ApiError {
    ApiError::NotFound(format!("track `{slug}` of edition {year}"))
}

pub fn list_tracks(conn: &mut PgConnection, year: i32) -> ApiResult<Vec<TrackRow>> {
    find_row(conn, year)?;
    Ok(tracks_of(conn, &[year])?)
}

pub fn find_track(conn: &mut PgConnection, year: i32, slug: &str) -> ApiResult<TrackRow> {
    tracks::table
        .filter(tracks::edition_year.eq(year).and(tracks::slug.eq(slug)))
        .select(TrackRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| track_not_found(year, slug))
}

pub fn create_track(conn: &mut PgConnection, year: i32, form: &TrackForm) -> ApiResult<TrackRow> {
    find_row(conn, year)?;
    let slug = form.slug.clone().unwrap_or_else(|| slugify(&form.name));
    if slug.is_empty() {
        return Err(ApiError::field("slug", "required", "give a slug: none can be made from this name"));
    }
    Ok(diesel::insert_into(tracks::table)
        .values((
            tracks::id.eq(Uuid::now_v7()),
            tracks::edition_year.eq(year),
            tracks::slug.eq(slug),
            tracks::name.eq(&form.name),
            tracks::description.eq(&form.description),
            tracks::position.eq(form.position),
        ))
        .returning(TrackRow::as_returning())
        .get_result(conn)?)
}

pub fn update_track(
    conn: &mut PgConnection,
    year: i32,
    slug: &str,
    if_match: &IfMatch,
    patch: &TrackPatch,
) -> ApiResult<TrackRow> {
    let current = find_track(conn, year, slug)?;
    if_match.check(current.version)?;
    let target = tracks::table.find(current.id).filter(tracks::version.eq(current.version));
    match diesel::update(target).set(patch).returning(TrackRow::as_returning()).get_result(conn).optional() {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(ApiError::PreconditionFailed(format!("v{}", current.version))),
        Err(diesel::result::Error::QueryBuilderError(_)) => Ok(current),
        Err(error) => Err(error.into()),
    }
}

/// Deletes a track at the version `If-Match` names (refused while events use it).
pub fn delete_track(conn: &mut PgConnection, year: i32, slug: &str, if_match: &IfMatch) -> ApiResult<()> {
    let track = find_track(conn, year, slug)?;
    if_match.check(track.version)?;
    match diesel::delete(tracks::table.find(track.id).filter(tracks::version.eq(track.version))).execute(conn)? {
        0 => Err(ApiError::PreconditionFailed(format!("v{}", track.version))),
        _ => Ok(()),
    }
}
