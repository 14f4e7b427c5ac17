//! The demo data set (`demo/seed.json`, embedded in the binary), loaded by `mip serve --demo`
//! into an empty database through the same repo functions the API uses.

use crate::geo::repo::Geography;
use crate::http::conditional::IfMatch;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Role;
use crate::editions::model::{EditionForm, TrackForm};
use crate::error::ApiError;
use crate::events::history::Actor;
use crate::events::model::EventForm;
use crate::events::workflow::{self, Transition};
use crate::labs::model::LabForm;
use crate::schema::{editions, organizers};

const SEED: &str = include_str!("../demo/seed.json");

/// The demo accounts, printed at start-up and shown in the README.
pub const DEMO_ADMIN_EMAIL: &str = "admin@mip.example";
pub const DEMO_ORGANIZER_EMAIL: &str = "lab@ti-lab.example";
pub const DEMO_PASSWORD: &str = "demo-password-2026";

#[derive(Deserialize)]
pub struct Seed {
    pub editions: Vec<SeedEdition>,
    pub labs: Vec<SeedLab>,
    pub organizers: Vec<SeedOrganizer>,
    pub events: Vec<crate::events::model::EventForm>,
}

#[derive(Deserialize)]
pub struct SeedEdition {
    year: i32,
    number: i32,
    title: String,
    theme: Option<String>,
    description: Option<String>,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    referencing_opens_at: DateTime<Utc>,
    referencing_closes_at: DateTime<Utc>,
    tracks: Vec<SeedTrack>,
}

#[derive(Deserialize)]
struct SeedTrack {
    slug: String,
    name: String,
    position: i32,
}

#[derive(Deserialize)]
pub struct SeedLab {
    slug: String,
    name: String,
    region: String,
    founded_year: Option<i32>,
    active: bool,
    description: Option<String>,
}

#[derive(Deserialize)]
pub struct SeedOrganizer {
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: String,
    pub region: Option<String>,
    pub department: Option<String>,
    pub verified: bool,
}

pub fn seed() -> Result<Seed, String> {
    serde_json::from_str(SEED).map_err(|e| format!("demo/seed.json is invalid: {e}"))
}

/// Loads the demo data unless the database already holds editions. Returns whether it loaded.
pub fn load(conn: &mut PgConnection) -> Result<bool, String> {
    let already: i64 = editions::table.count().get_result(conn).map_err(|e| e.to_string())?;
    if already > 0 {
        return Ok(false);
    }
    let seed = seed()?;
    let geo = Geography::load(conn).map_err(|e| e.to_string())?;
    conn.transaction::<_, ApiError, _>(|conn| load_seed(conn, &geo, &seed))
        .map_err(|e| format!("loading the demo data failed: {e}: {:?}", e.to_problem().errors))?;
    Ok(true)
}

fn load_seed(conn: &mut PgConnection, geo: &Geography, seed: &Seed) -> Result<(), ApiError> {
    for edition in &seed.editions {
        crate::editions::repo::create(
            conn,
            &EditionForm {
                year: edition.year,
                number: edition.number,
                title: edition.title.clone(),
                theme: edition.theme.clone(),
                description: edition.description.clone(),
                starts_on: edition.starts_on,
                ends_on: edition.ends_on,
                referencing_opens_at: edition.referencing_opens_at,
                referencing_closes_at: edition.referencing_closes_at,
                changes_require_review: false,
            },
            chrono::Utc::now(),
        )?;
        for track in &edition.tracks {
            let form = TrackForm {
                slug: Some(track.slug.clone()),
                name: track.name.clone(),
                description: None,
                position: track.position,
            };
            crate::editions::repo::create_track(conn, edition.year, &form)?;
        }
    }
    for organizer in &seed.organizers {
        diesel::insert_into(organizers::table)
            .values((
                organizers::id.eq(Uuid::now_v7()),
                organizers::slug.eq(&organizer.slug),
                organizers::name.eq(&organizer.name),
                organizers::acronym.eq(&organizer.acronym),
                organizers::kind.eq(&organizer.kind),
                organizers::region_code.eq(&organizer.region),
                organizers::department_code.eq(&organizer.department),
                organizers::contact_email.eq(format!("contact@{}.example", organizer.slug)),
                organizers::verified.eq(organizer.verified),
                organizers::verified_at.eq(organizer.verified.then(Utc::now)),
            ))
            .execute(conn)?;
    }
    for lab in &seed.labs {
        let organizer_id: Option<Uuid> =
            organizers::table.filter(organizers::slug.eq(&lab.slug)).select(organizers::id).first(conn).optional()?;
        crate::labs::repo::create(
            conn,
            geo,
            &LabForm {
                slug: Some(lab.slug.clone()),
                name: lab.name.clone(),
                region: lab.region.clone(),
                host: None,
                website: None,
                founded_year: lab.founded_year,
                active: lab.active,
                description: lab.description.clone(),
                organizer_id,
            },
        )?;
    }
    let password_hash = crate::auth::password::hash(DEMO_PASSWORD)?;
    let admin = crate::auth::repo::create(conn, DEMO_ADMIN_EMAIL, &password_hash, Role::Admin, None)?;
    let ti_lab: Uuid = organizers::table.filter(organizers::slug.eq("ti-lab")).select(organizers::id).first(conn)?;
    crate::auth::repo::create(conn, DEMO_ORGANIZER_EMAIL, &password_hash, Role::Organizer, Some(ti_lab))?;
    let admin = Actor { account_id: admin.id, role: Role::Admin, organizer_id: None, scopes: None, token_id: None };
    for form in &seed.events {
        publish_demo_event(conn, geo, &admin, form)?;
    }
    Ok(())
}

/// Past events go through the real steps: created, submitted (an admin overriding the closed
/// referencing window, as the history records) and published.
fn publish_demo_event(
    conn: &mut PgConnection,
    geo: &Geography,
    admin: &Actor,
    form: &EventForm,
) -> Result<(), ApiError> {
    let event = crate::events::repo::create(conn, geo, admin, form)?;
    let now = chrono::Utc::now();
    let submit = Transition::Submit { override_referencing_window: true };
    workflow::apply(conn, geo, admin, event.id, &IfMatch::Any, submit, now)?;
    workflow::apply(conn, geo, admin, event.id, &IfMatch::Any, Transition::Publish, now)?;
    Ok(())
}
