use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::FieldError;
use crate::geo::Place;
use crate::geo::repo::Geography;
use crate::http::fields::{check_nullable_length, check_nullable_url, nullable, validate_http_url, validate_not_blank};
use crate::http::pagination::PageParams;
use crate::schema::organizers;

crate::text_enum! {
    /// What kind of body an organizer is (the categories DITP reports on).
    pub enum OrganizerKind {
        /// Administration centrale (a ministry's central services).
        CentralAdministration = "central_administration",
        /// Service déconcentré de l'État (prefectures, regional directorates).
        DeconcentratedService = "deconcentrated_service",
        /// Collectivité territoriale (regions, departments, cities).
        LocalAuthority = "local_authority",
        /// Opérateur ou établissement public.
        PublicOperator = "public_operator",
        /// Établissement public sanitaire et social (hospitals, social services).
        HealthSocialEstablishment = "health_social_establishment",
        /// Laboratoire d'innovation territoriale.
        InnovationLab = "innovation_lab",
        /// Association or social economy actor.
        Association = "association",
        Other = "other",
    }
}

impl OrganizerKind {
    /// The French label, for people (facets, reports).
    pub fn label(self) -> &'static str {
        match self {
            OrganizerKind::CentralAdministration => "Administration centrale",
            OrganizerKind::DeconcentratedService => "Service déconcentré de l'État",
            OrganizerKind::LocalAuthority => "Collectivité territoriale",
            OrganizerKind::PublicOperator => "Opérateur / établissement public",
            OrganizerKind::HealthSocialEstablishment => "Établissement public sanitaire et social",
            OrganizerKind::InnovationLab => "Laboratoire d'innovation territoriale",
            OrganizerKind::Association => "Association / acteur de l'ESS",
            OrganizerKind::Other => "Autre",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizers)]
pub struct OrganizerRow {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: String,
    pub region_code: Option<String>,
    pub department_code: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub contact_email: String,
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrganizerRow {
    pub fn kind(&self) -> OrganizerKind {
        OrganizerKind::parse(&self.kind).unwrap_or(OrganizerKind::Other)
    }
}

/// An organizer. `contact_email` is private: only its members and admins see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizerOut {
    pub id: Uuid,
    #[schema(example = "prefecture-d-ille-et-vilaine")]
    pub slug: String,
    #[schema(example = "Préfecture d'Ille-et-Vilaine")]
    pub name: String,
    pub acronym: Option<String>,
    pub kind: OrganizerKind,
    pub region: Option<Place>,
    pub department: Option<Place>,
    pub website: Option<String>,
    pub description: Option<String>,
    /// Whether DITP has verified the organizer; only verified organizers are listed publicly.
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
    /// Private (members and admins only): where DITP writes to the organizer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrganizerOut {
    /// `private`: whether the reader is a member or an admin.
    pub fn new(row: OrganizerRow, geo: &Geography, private: bool) -> Self {
        OrganizerOut {
            kind: row.kind(),
            region: row.region_code.as_deref().and_then(|code| geo.region(code)),
            department: row.department_code.as_deref().and_then(|code| geo.department(code)),
            id: row.id,
            slug: row.slug,
            name: row.name,
            acronym: row.acronym,
            website: row.website,
            description: row.description,
            verified: row.verified,
            verified_at: row.verified_at,
            contact_email: private.then_some(row.contact_email),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// An organizer as embedded in other resources (events, labs).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganizerSummary {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: OrganizerKind,
    pub verified: bool,
}

impl From<&OrganizerRow> for OrganizerSummary {
    fn from(row: &OrganizerRow) -> Self {
        OrganizerSummary {
            id: row.id,
            slug: row.slug.clone(),
            name: row.name.clone(),
            acronym: row.acronym.clone(),
            kind: row.kind(),
            verified: row.verified,
        }
    }
}

/// An organizer's public profile and contact, as given at registration.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizerForm {
    #[validate(length(min = 2, max = 200), custom(function = "validate_not_blank"))]
    #[schema(min_length = 2, max_length = 200)]
    #[schema(example = "Préfecture d'Ille-et-Vilaine")]
    pub name: String,
    #[validate(length(min = 1, max = 30))]
    #[schema(min_length = 1, max_length = 30)]
    pub acronym: Option<String>,
    pub kind: OrganizerKind,
    /// INSEE region code; deduced from the department when absent.
    #[schema(example = "53")]
    pub region: Option<String>,
    /// INSEE department code.
    #[schema(example = "35")]
    pub department: Option<String>,
    #[validate(custom(function = "validate_http_url"))]
    pub website: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// Where DITP writes to the organizer (private). Defaults to the account's email.
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub contact_email: Option<String>,
}

/// Changes to an organizer; absent fields stay, `null` clears.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizerPatch {
    #[validate(length(min = 2, max = 200), custom(function = "validate_not_blank"))]
    #[schema(min_length = 2, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub acronym: Option<Option<String>>,
    pub kind: Option<OrganizerKind>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub contact_email: Option<String>,
}

impl OrganizerPatch {
    /// The rules validator cannot see inside `Option<Option<_>>`.
    pub fn check(&self) -> Vec<FieldError> {
        [
            check_nullable_length("acronym", &self.acronym, 30),
            check_nullable_url("website", &self.website),
            check_nullable_length("description", &self.description, 5000),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// The place of an organizer, checked against the INSEE tables. The region is deduced from the
/// department when only the department is given.
pub fn resolve_place(
    geo: &Geography,
    region: Option<&str>,
    department: Option<&str>,
) -> Result<(Option<String>, Option<String>), Vec<FieldError>> {
    let errors = geo.check("", region, department, None);
    if !errors.is_empty() {
        return Err(errors);
    }
    let region = region.map(String::from).or_else(|| department.and_then(|d| geo.region_of(d)).map(String::from));
    Ok((region, department.map(String::from)))
}

/// Filters of `GET /organizers`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrganizerFilter {
    /// Kinds (OR): `local_authority,innovation_lab`, or the parameter repeated.
    #[serde(default)]
    #[param(value_type = Option<Vec<OrganizerKind>>, style = Form, explode = false)]
    pub kind: Vec<String>,
    /// INSEE region codes (OR): `53,52`, or the parameter repeated.
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub region: Vec<String>,
    /// Words of the name or acronym, accents and case ignored: `prefecture bretagne`.
    pub q: Option<String>,
    /// Admins only: `false` lists the organizers waiting for verification.
    pub verified: Option<bool>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl OrganizerFilter {
    pub fn page(&self) -> PageParams {
        PageParams { limit: self.limit, cursor: self.cursor.clone() }
    }
}

/// A member of an organizer: an account, or an invitation not yet accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    /// The account's id (or the invitation's, while it is pending).
    pub id: Uuid,
    pub email: String,
    pub status: MemberStatus,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Pending invitations only: when the invitation lapses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// Has an account and can log in.
    Active,
    /// Invited, has not set a password yet.
    Invited,
}

/// Inviting a colleague to join the organizer.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationForm {
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    #[schema(example = "colleague@prefecture-35.example")]
    pub email: String,
}

/// A new invitation. `token` is shown this once: pass it to the colleague, who sets a password
/// with `POST /api/v1/auth/invitations/accept`.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOut {
    pub id: Uuid,
    pub email: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}
