use serde::Serialize;
use utoipa::ToSchema;

/// A region or department: its INSEE code with its name beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Place {
    #[schema(example = "53")]
    pub code: String,
    #[schema(example = "Bretagne")]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentOut {
    pub code: String,
    pub name: String,
    /// First digits of the postal codes delivered in the department.
    pub postal_prefixes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionOut {
    pub code: String,
    pub name: String,
    pub departments: Vec<DepartmentOut>,
}
