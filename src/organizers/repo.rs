use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use uuid::Uuid;

use super::model::{OrganizerForm, OrganizerKind, OrganizerPatch, OrganizerRow, resolve_place};
use crate::error::{ApiError, ApiResult};
use crate::geo::repo::Geography;
use crate::http::conditional::IfMatch;
use crate::http::fields::slugify;
use crate::schema::organizers;

fn not_found(key: &str) -> ApiError {
    ApiError::NotFound(format!("organizer `{key}`"))
}

/// An organizer by id or by slug.
pub fn find_row(conn: &mut PgConnection, key: &str) -> ApiResult<OrganizerRow> {
    let query = organizers::table.select(OrganizerRow::as_select()).into_boxed();
    let query = match Uuid::parse_str(key) {
        Ok(id) => query.filter(organizers::id.eq(id)),
        Err(_) => query.filter(organizers::slug.eq(key)),
    };
    query.first(conn).optional()?.ok_or_else(|| not_found(key))
}

pub fn find_by_id(conn: &mut PgConnection, id: Uuid) -> ApiResult<OrganizerRow> {
    find_row(conn, &id.to_string())
}

pub fn rows_by_id(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<OrganizerRow>> {
    organizers::table.filter(organizers::id.eq_any(ids)).select(OrganizerRow::as_select()).load(conn)
}

/// A slug no other organizer has: the name's, or the name's with `-2`, `-3`…
fn free_slug(conn: &mut PgConnection, name: &str) -> ApiResult<String> {
    let base = match slugify(name) {
        slug if slug.is_empty() => "organisateur".to_string(),
        slug => slug,
    };
    let taken: Vec<String> = organizers::table
        .filter(organizers::slug.eq(&base).or(organizers::slug.like(format!("{base}-%"))))
        .select(organizers::slug)
        .load(conn)?;
    Ok((1..)
        .map(|n| if n == 1 { base.clone() } else { format!("{base}-{n}") })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or(base))
}

/// Creates an organizer, unverified. `default_contact` is used when the form has no contact.
pub fn create(
    conn: &mut PgConnection,
    geo: &Geography,
    form: &OrganizerForm,
    default_contact: &str,
) -> ApiResult<OrganizerRow> {
    let (region, department) = resolve_place(geo, form.region.as_deref(), form.department.as_deref())
        .map_err(|errors| ApiError::Validation(prefixed("organizer.", errors)))?;
    crate::db::insert_with_free_slug(
        conn,
        "organizers_slug_key",
        |conn| free_slug(conn, &form.name),
        |conn, slug| {
            diesel::insert_into(organizers::table)
                .values((
                    organizers::id.eq(Uuid::now_v7()),
                    organizers::slug.eq(slug),
                    organizers::name.eq(form.name.trim()),
                    organizers::acronym.eq(form.acronym.as_deref().map(str::trim)),
                    organizers::kind.eq(form.kind.as_str()),
                    organizers::region_code.eq(&region),
                    organizers::department_code.eq(&department),
                    organizers::website.eq(&form.website),
                    organizers::description.eq(&form.description),
                    organizers::contact_email.eq(form.contact_email.as_deref().unwrap_or(default_contact).trim()),
                ))
                .returning(OrganizerRow::as_returning())
                .get_result(conn)
        },
    )
}

fn prefixed(prefix: &str, errors: Vec<crate::error::FieldError>) -> Vec<crate::error::FieldError> {
    errors.into_iter().map(|mut e| (e.field = format!("{prefix}{}", e.field), e).1).collect()
}

/// What `GET /organizers` asks for, already parsed.
pub struct OrganizerQuery {
    pub kinds: Vec<OrganizerKind>,
    pub regions: Vec<String>,
    pub words: Vec<String>,
    /// `Some(true)` for the public list; admins may ask for either.
    pub verified: Option<bool>,
}

/// A page of organizers by slug. `after_slug` is the cursor.
pub fn list(
    conn: &mut PgConnection,
    query: &OrganizerQuery,
    after_slug: Option<String>,
    limit: i64,
) -> ApiResult<(Vec<OrganizerRow>, i64)> {
    let filtered = || {
        let mut q = organizers::table.into_boxed();
        if let Some(verified) = query.verified {
            q = q.filter(organizers::verified.eq(verified));
        }
        if !query.kinds.is_empty() {
            q = q.filter(organizers::kind.eq_any(query.kinds.iter().map(|k| k.as_str())));
        }
        if !query.regions.is_empty() {
            q = q.filter(organizers::region_code.eq_any(&query.regions));
        }
        for word in &query.words {
            // Accent- and case-insensitive match on the name or the acronym.
            let pattern = format!("%{}%", escape_like(&word.to_lowercase()));
            q = q.filter(
                diesel::dsl::sql::<Bool>(
                    "unaccent(lower(organizers.name || ' ' || coalesce(organizers.acronym, ''))) LIKE unaccent(",
                )
                .bind::<Text, _>(pattern)
                .sql(")"),
            );
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let mut page = filtered().select(OrganizerRow::as_select()).order(organizers::slug).limit(limit + 1);
    if let Some(after) = after_slug {
        page = page.filter(organizers::slug.gt(after));
    }
    Ok((page.load(conn)?, total))
}

/// `%` and `_` typed by a person are letters, not wildcards.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[derive(AsChangeset)]
#[diesel(table_name = organizers)]
struct OrganizerChanges {
    name: Option<String>,
    acronym: Option<Option<String>>,
    kind: Option<&'static str>,
    region_code: Option<Option<String>>,
    department_code: Option<Option<String>>,
    website: Option<Option<String>>,
    description: Option<Option<String>>,
    contact_email: Option<String>,
}

/// Applies a patch when `If-Match` is current.
pub fn update(
    conn: &mut PgConnection,
    geo: &Geography,
    id: Uuid,
    if_match: &IfMatch,
    patch: OrganizerPatch,
) -> ApiResult<OrganizerRow> {
    conn.transaction(|conn| {
        let current: OrganizerRow = organizers::table
            .find(id)
            .for_update()
            .select(OrganizerRow::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| not_found(&id.to_string()))?;
        if_match.check(current.version)?;
        let mut errors = patch.check();
        // The place is checked as it will be after the patch.
        // A new department without a region moves the organizer to that department's region;
        // clearing the department alone keeps the region.
        let region = match (&patch.region, &patch.department) {
            (Some(region), _) => region.clone(),
            (None, Some(Some(_))) => None,
            (None, _) => current.region_code.clone(),
        };
        let department = patch.department.clone().unwrap_or(current.department_code.clone());
        let place = resolve_place(geo, region.as_deref(), department.as_deref());
        let (region, department) = match place {
            Ok(place) => place,
            Err(place_errors) => {
                errors.extend(place_errors);
                (None, None)
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let place_changed = patch.region.is_some() || patch.department.is_some();
        let changes = OrganizerChanges {
            name: patch.name.map(|n| n.trim().to_string()),
            acronym: patch.acronym,
            kind: patch.kind.map(OrganizerKind::as_str),
            region_code: place_changed.then_some(region),
            department_code: place_changed.then_some(department),
            website: patch.website,
            description: patch.description,
            contact_email: patch.contact_email.map(|e| e.trim().to_string()),
        };
        match diesel::update(organizers::table.find(id)).set(&changes).execute(conn) {
            Ok(_) | Err(diesel::result::Error::QueryBuilderError(_)) => {} // an empty patch changes nothing
            Err(error) => return Err(error.into()),
        }
        find_by_id(conn, id)
    })
}

/// Marks an organizer verified (idempotent: verifying twice keeps the first date).
pub fn verify(conn: &mut PgConnection, id: Uuid) -> ApiResult<OrganizerRow> {
    diesel::update(organizers::table.find(id).filter(organizers::verified.eq(false)))
        .set((organizers::verified.eq(true), organizers::verified_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    find_by_id(conn, id)
}
