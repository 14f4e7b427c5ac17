use diesel::prelude::*;
use uuid::Uuid;

use super::model::{FigureForm, FigureRow, LabChanges, LabForm, LabOut, LabPatch, LabRow, check_founded_year};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::geo::repo::Geography;
use crate::http::conditional::IfMatch;
use crate::http::fields::slugify;
use crate::schema::{event_labs, lab_figures, labs, organizers};

fn not_found(slug: &str) -> ApiError {
    ApiError::NotFound(format!("lab `{slug}`"))
}

fn find_row(conn: &mut PgConnection, slug: &str) -> ApiResult<LabRow> {
    labs::table
        .filter(labs::slug.eq(slug))
        .select(LabRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(slug))
}

/// The lab a write is about to change, locked until the transaction ends, after checking that
/// it is still the version the client read (`If-Match`): a concurrent writer cannot slip in
/// between the check and the write.
fn lock_current(conn: &mut PgConnection, slug: &str, if_match: &IfMatch) -> ApiResult<LabRow> {
    let current = labs::table
        .filter(labs::slug.eq(slug))
        .select(LabRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(slug))?;
    if_match.check(current.version)?;
    Ok(current)
}

fn present(conn: &mut PgConnection, geo: &Geography, rows: Vec<LabRow>) -> ApiResult<Vec<LabOut>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let figures: Vec<FigureRow> = lab_figures::table
        .filter(lab_figures::lab_id.eq_any(&ids))
        .order(lab_figures::year)
        .select(FigureRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let region = geo.region(&row.region_code).ok_or_else(|| ApiError::internal("lab in an unknown region"))?;
            let mine = figures.iter().filter(|f| f.lab_id == row.id).cloned().collect();
            Ok(LabOut::new(row, region, mine))
        })
        .collect()
}

/// A lab's id by slug.
pub fn find_id(conn: &mut PgConnection, slug: &str) -> ApiResult<Uuid> {
    Ok(find_row(conn, slug)?.id)
}

pub fn find(conn: &mut PgConnection, geo: &Geography, slug: &str) -> ApiResult<LabOut> {
    let row = find_row(conn, slug)?;
    present(conn, geo, vec![row])?.pop().ok_or_else(|| not_found(slug))
}

/// Labs by slug. `after_slug` is the cursor.
pub fn list(
    conn: &mut PgConnection,
    geo: &Geography,
    regions: &[String],
    active: Option<bool>,
    after_slug: Option<String>,
    limit: i64,
) -> ApiResult<(Vec<LabOut>, i64)> {
    let filtered = || {
        let mut query = labs::table.into_boxed();
        if !regions.is_empty() {
            query = query.filter(labs::region_code.eq_any(regions));
        }
        if let Some(active) = active {
            query = query.filter(labs::active.eq(active));
        }
        query
    };
    let total = filtered().count().get_result(conn)?;
    let mut query = filtered().select(LabRow::as_select()).order(labs::slug).limit(limit + 1);
    if let Some(after) = after_slug {
        query = query.filter(labs::slug.gt(after));
    }
    let rows = query.load(conn)?;
    Ok((present(conn, geo, rows)?, total))
}

/// Region known, organizer known: the references a lab makes.
fn check_references(
    conn: &mut PgConnection,
    geo: &Geography,
    region: Option<&str>,
    organizer: Option<Uuid>,
) -> ApiResult<Vec<FieldError>> {
    let mut errors = geo.check("", region, None, None);
    if let Some(organizer) = organizer {
        let exists: bool = diesel::select(diesel::dsl::exists(organizers::table.find(organizer))).get_result(conn)?;
        if !exists {
            errors.push(FieldError::new("organizer_id", "unknown_organizer", "no organizer has this id"));
        }
    }
    Ok(errors)
}

pub fn create(conn: &mut PgConnection, geo: &Geography, form: &LabForm) -> ApiResult<LabOut> {
    let mut errors = check_references(conn, geo, Some(&form.region), form.organizer_id)?;
    errors.extend(form.founded_year.map(check_founded_year).unwrap_or_default());
    let slug = form.slug.clone().unwrap_or_else(|| slugify(&form.name));
    if slug.is_empty() {
        errors.push(FieldError::new("slug", "required", "give a slug: none can be made from this name"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    diesel::insert_into(labs::table)
        .values((
            labs::id.eq(Uuid::now_v7()),
            labs::slug.eq(&slug),
            labs::name.eq(&form.name),
            labs::region_code.eq(&form.region),
            labs::host.eq(&form.host),
            labs::website.eq(&form.website),
            labs::founded_year.eq(form.founded_year),
            labs::active.eq(form.active),
            labs::description.eq(&form.description),
            labs::organizer_id.eq(form.organizer_id),
        ))
        .execute(conn)?;
    find(conn, geo, &slug)
}

pub fn update(
    conn: &mut PgConnection,
    geo: &Geography,
    slug: &str,
    if_match: &IfMatch,
    patch: LabPatch,
) -> ApiResult<LabOut> {
    conn.transaction(|conn| {
        let current = lock_current(conn, slug, if_match)?;
        let mut errors = patch.check();
        errors.extend(check_references(conn, geo, patch.region.as_deref(), patch.organizer_id.flatten())?);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let changes: LabChanges = patch.into_changes();
        let new_slug = changes.slug.clone().unwrap_or_else(|| current.slug.clone());
        match diesel::update(labs::table.find(current.id)).set(&changes).execute(conn) {
            Ok(_) | Err(diesel::result::Error::QueryBuilderError(_)) => {}
            Err(error) => return Err(error.into()),
        }
        find(conn, geo, &new_slug)
    })
}

/// Deletes a lab and its figures, unless events refer to it (409 naming how many): an event
/// keeps the labs it lists, as it keeps its edition. The database refuses it too
/// (`event_labs.lab_id` is `ON DELETE RESTRICT`).
pub fn delete(conn: &mut PgConnection, slug: &str, if_match: &IfMatch) -> ApiResult<()> {
    conn.transaction(|conn| {
        // Locked, so that no event takes the lab between the count and the delete (an event
        // that lists it reads it `FOR KEY SHARE`, and waits).
        let lab = lock_current(conn, slug, if_match)?;
        let events: i64 = event_labs::table.filter(event_labs::lab_id.eq(lab.id)).count().get_result(conn)?;
        if events > 0 {
            let (count, verb) =
                if events == 1 { ("1 event".to_string(), "refers") } else { (format!("{events} events"), "refer") };
            return Err(ApiError::conflict_on(
                "labs",
                "in_use",
                format!("{count} {verb} to this lab in `labs`; remove it from them first"),
            ));
        }
        diesel::delete(labs::table.find(lab.id)).execute(conn)?;
        Ok(())
    })
}

/// Sets a year's figures, replacing what was there, when `If-Match`
/// is the lab's current one: the figures are part of the lab.
pub fn put_figures(
    conn: &mut PgConnection,
    geo: &Geography,
    slug: &str,
    year: i32,
    if_match: &IfMatch,
    form: &FigureForm,
) -> ApiResult<LabOut> {
    if !(2014..=2100).contains(&year) {
        return Err(ApiError::bad_param("year", "must be between 2014 and 2100"));
    }
    conn.transaction(|conn| {
        let lab = lock_current(conn, slug, if_match)?;
        upsert_figures(conn, &lab, year, form)?;
        find(conn, geo, slug)
    })
}

fn upsert_figures(conn: &mut PgConnection, lab: &LabRow, year: i32, form: &FigureForm) -> ApiResult<()> {
    let row = FigureRow {
        lab_id: lab.id,
        year,
        projects_led: form.projects_led,
        projects_supported: form.projects_supported,
        trainings: form.trainings,
    };
    diesel::insert_into(lab_figures::table)
        .values(&row)
        .on_conflict((lab_figures::lab_id, lab_figures::year))
        .do_update()
        .set((
            lab_figures::projects_led.eq(row.projects_led),
            lab_figures::projects_supported.eq(row.projects_supported),
            lab_figures::trainings.eq(row.trainings),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn delete_figures(conn: &mut PgConnection, slug: &str, year: i32) -> ApiResult<()> {
    let lab = find_row(conn, slug)?;
    match diesel::delete(lab_figures::table.find((lab.id, year))).execute(conn)? {
        0 => Err(ApiError::NotFound(format!("figures of `{slug}` for {year}"))),
        _ => Ok(()),
    }
}
