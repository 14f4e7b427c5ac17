use chrono::{DateTime, Datelike, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::FieldError;
use crate::geo::Place;
use crate::http::fields::{check_nullable_length, check_nullable_url, nullable, validate_http_url, validate_slug};
use crate::schema::{lab_figures, labs};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = labs)]
pub struct LabRow {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub region_code: String,
    pub host: Option<String>,
    pub website: Option<String>,
    pub founded_year: Option<i32>,
    pub active: bool,
    pub description: Option<String>,
    pub organizer_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = lab_figures)]
pub struct FigureRow {
    pub lab_id: Uuid,
    pub year: i32,
    pub projects_led: Option<i32>,
    pub projects_supported: Option<i32>,
    pub trainings: Option<i32>,
}

/// What a lab did in a year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FigureOut {
    pub year: i32,
    pub projects_led: Option<i32>,
    pub projects_supported: Option<i32>,
    /// Training sessions given.
    pub trainings: Option<i32>,
}

/// A territorial innovation lab.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabOut {
    #[schema(example = "ti-lab")]
    pub slug: String,
    #[schema(example = "Ti-Lab")]
    pub name: String,
    pub region: Place,
    /// Who hosts the lab (a prefecture, a region, a university…).
    pub host: Option<String>,
    pub website: Option<String>,
    pub founded_year: Option<i32>,
    pub active: bool,
    pub description: Option<String>,
    /// The organizer the lab references its events as, if any.
    pub organizer_id: Option<Uuid>,
    pub figures: Vec<FigureOut>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl LabOut {
    pub fn new(row: LabRow, region: Place, figures: Vec<FigureRow>) -> Self {
        LabOut {
            slug: row.slug,
            name: row.name,
            region,
            host: row.host,
            website: row.website,
            founded_year: row.founded_year,
            active: row.active,
            description: row.description,
            organizer_id: row.organizer_id,
            figures: figures
                .into_iter()
                .map(|f| FigureOut {
                    year: f.year,
                    projects_led: f.projects_led,
                    projects_supported: f.projects_supported,
                    trainings: f.trainings,
                })
                .collect(),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Yearly figures of a lab.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FigureForm {
    #[validate(range(min = 0, max = 100000))]
    #[schema(minimum = 0, maximum = 100000)]
    pub projects_led: Option<i32>,
    #[validate(range(min = 0, max = 100000))]
    #[schema(minimum = 0, maximum = 100000)]
    pub projects_supported: Option<i32>,
    #[validate(range(min = 0, max = 100000))]
    #[schema(minimum = 0, maximum = 100000)]
    pub trainings: Option<i32>,
}

/// A new lab. Without a slug, one is made from the name.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabForm {
    #[validate(custom(function = "validate_slug"))]
    pub slug: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// INSEE region code.
    #[schema(example = "53")]
    pub region: String,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub host: Option<String>,
    #[validate(custom(function = "validate_http_url"))]
    pub website: Option<String>,
    #[validate(range(min = 1990, max = 2100))]
    #[schema(minimum = 1990, maximum = 2100)]
    pub founded_year: Option<i32>,
    #[serde(default = "active_by_default")]
    pub active: bool,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    pub organizer_id: Option<Uuid>,
}

fn active_by_default() -> bool {
    true
}

/// Changes to a lab; absent fields stay, `null` clears.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabPatch {
    #[validate(custom(function = "validate_slug"))]
    pub slug: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub region: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub host: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub founded_year: Option<Option<i32>>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub organizer_id: Option<Option<Uuid>>,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = labs)]
pub struct LabChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub region_code: Option<String>,
    pub host: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub founded_year: Option<Option<i32>>,
    pub active: Option<bool>,
    pub description: Option<Option<String>>,
    pub organizer_id: Option<Option<Uuid>>,
}

impl LabPatch {
    /// The rules validator cannot see inside `Option<Option<_>>`.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = [
            check_nullable_length("host", &self.host, 200),
            check_nullable_url("website", &self.website),
            check_nullable_length("description", &self.description, 10000),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some(Some(year)) = self.founded_year {
            errors.extend(check_founded_year(year));
        }
        errors
    }

    pub fn into_changes(self) -> LabChanges {
        LabChanges {
            slug: self.slug,
            name: self.name,
            region_code: self.region,
            host: self.host,
            website: self.website,
            founded_year: self.founded_year,
            active: self.active,
            description: self.description,
            organizer_id: self.organizer_id,
        }
    }
}

/// A lab cannot have been founded in the future.
pub fn check_founded_year(year: i32) -> Vec<FieldError> {
    let this_year = Utc::now().year();
    if !(1990..=this_year).contains(&year) {
        vec![FieldError::new("founded_year", "out_of_range", format!("must be between 1990 and {this_year}"))]
    } else {
        vec![]
    }
}

/// Filters of `GET /labs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LabFilter {
    /// INSEE region codes (OR): `53,52`, or the parameter repeated.
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub region: Vec<String>,
    /// Only active (true) or inactive (false) labs.
    pub active: Option<bool>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl LabFilter {
    pub fn page(&self) -> crate::http::pagination::PageParams {
        crate::http::pagination::PageParams { limit: self.limit, cursor: self.cursor.clone() }
    }

    /// The region codes asked for (checked against the reference by the handler).
    pub fn regions(&self) -> Result<Vec<String>, crate::error::ApiError> {
        crate::http::query::list_parameter("region", &self.region)
    }
}
