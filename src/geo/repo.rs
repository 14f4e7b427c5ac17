//! The reference tables are written by a migration and never change while the service runs,
//! so they are read once at start and shared (`AppState::geo`).

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::model::{DepartmentOut, Place, RegionOut};
use crate::error::FieldError;
use crate::schema::{departments, regions};

pub struct Geography {
    regions: BTreeMap<String, String>,
    departments: BTreeMap<String, (String, String, Vec<String>)>,
}

impl Geography {
    /// Reads the reference tables (once, at start: see `AppState::new`).
    pub fn load(conn: &mut PgConnection) -> QueryResult<Geography> {
        let regions: Vec<(String, String)> = regions::table.select((regions::code, regions::name)).load(conn)?;
        let departments: Vec<(String, String, String, Vec<Option<String>>)> = departments::table
            .select((departments::code, departments::name, departments::region_code, departments::postal_prefixes))
            .load(conn)?;
        let departments = departments
            .into_iter()
            .map(|(code, name, region, prefixes)| (code, name, region, prefixes.into_iter().flatten().collect()))
            .collect();
        Ok(Geography::from_rows(regions, departments))
    }

    /// Regions as (code, name); departments as (code, name, region code, postal prefixes).
    pub fn from_rows(regions: Vec<(String, String)>, departments: Vec<(String, String, String, Vec<String>)>) -> Self {
        Geography {
            regions: regions.into_iter().collect(),
            departments: departments
                .into_iter()
                .map(|(code, name, region, prefixes)| (code, (name, region, prefixes)))
                .collect(),
        }
    }

    pub fn region(&self, code: &str) -> Option<Place> {
        self.regions.get(code).map(|name| Place { code: code.into(), name: name.clone() })
    }

    pub fn department(&self, code: &str) -> Option<Place> {
        self.departments.get(code).map(|(name, _, _)| Place { code: code.into(), name: name.clone() })
    }

    /// The region of a department.
    pub fn region_of(&self, department: &str) -> Option<&str> {
        self.departments.get(department).map(|(_, region, _)| region.as_str())
    }

    pub fn all(&self) -> Vec<RegionOut> {
        self.regions
            .iter()
            .map(|(code, name)| RegionOut {
                code: code.clone(),
                name: name.clone(),
                departments: self
                    .departments
                    .iter()
                    .filter(|(_, (_, region, _))| region == code)
                    .map(|(code, (name, _, prefixes))| DepartmentOut {
                        code: code.clone(),
                        name: name.clone(),
                        postal_prefixes: prefixes.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Checks a place: the region exists, the department exists and lies in the region,
    /// the postal code belongs to the department. `prefix` is the field path (`venue.`).
    pub fn check(
        &self,
        prefix: &str,
        region: Option<&str>,
        department: Option<&str>,
        postal_code: Option<&str>,
    ) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(region) = region
            && !self.regions.contains_key(region)
        {
            errors.push(FieldError::new(
                format!("{prefix}region"),
                "unknown_region",
                format!("`{region}` is not an INSEE region code"),
            ));
        }
        let Some(department) = department else { return errors };
        let Some((name, its_region, prefixes)) = self.departments.get(department) else {
            errors.push(FieldError::new(
                format!("{prefix}department"),
                "unknown_department",
                format!("`{department}` is not an INSEE department code"),
            ));
            return errors;
        };
        if let Some(region) = region.filter(|r| *r != its_region) {
            errors.push(FieldError::new(
                format!("{prefix}department"),
                "department_not_in_region",
                format!("department {department} ({name}) is in region {its_region}, not {region}"),
            ));
        }
        if let Some(postal_code) = postal_code {
            let valid_shape = postal_code.len() == 5 && postal_code.bytes().all(|b| b.is_ascii_digit());
            if !valid_shape {
                errors.push(FieldError::new(
                    format!("{prefix}postal_code"),
                    "invalid_postal_code",
                    "must be five digits",
                ));
            } else if !prefixes.iter().any(|p| postal_code.starts_with(p.as_str())) {
                let actual = self
                    .departments
                    .iter()
                    .find(|(_, (_, _, ps))| ps.iter().any(|p| postal_code.starts_with(p.as_str())))
                    .map(|(code, _)| code.as_str())
                    .unwrap_or("no department");
                errors.push(FieldError::new(
                    format!("{prefix}postal_code"),
                    "postal_code_not_in_department",
                    format!(
                        "postal code {postal_code} belongs to department {actual}, not {department} ({name}); \
                         a few communes are served by a neighbouring department's post office: check the address"
                    ),
                ));
            }
        }
        errors
    }
}
