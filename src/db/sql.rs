//! Hand-written SQL with numbered bind parameters, for the queries diesel's DSL cannot build
//! well (one filter shared by pages, counts, facets and reports; `GROUPING SETS`).
//!
//! Every value goes through a bind parameter; only column names and operators chosen by the
//! code are written into the text.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, Double, Float4, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

/// A bind parameter.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Texts(Vec<String>),
    Int(i32),
    Ints(Vec<i32>),
    Uuid(Uuid),
    Uuids(Vec<Uuid>),
    At(Option<DateTime<Utc>>),
    Number(f64),
    Rank(f32),
}

/// Conditions joined by `AND`, with the values they bind.
#[derive(Debug, Default, Clone)]
pub struct Sql {
    clauses: Vec<String>,
    binds: Vec<Bind>,
}

impl Sql {
    /// Adds a value and returns its placeholder (`$3`).
    pub fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// Adds a condition.
    pub fn and(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// `column = $n` for one value (the planner can then walk an index in order), or
    /// `column = ANY($n)` for several.
    pub fn one_of_texts(&mut self, column: &str, values: Vec<String>) {
        let clause = match values.as_slice() {
            [one] => format!("{column} = {}", self.bind(Bind::Text(one.clone()))),
            _ => format!("{column} = ANY({})", self.bind(Bind::Texts(values))),
        };
        self.and(clause);
    }

    pub fn one_of_ints(&mut self, column: &str, values: Vec<i32>) {
        let clause = match values.as_slice() {
            [one] => format!("{column} = {}", self.bind(Bind::Int(*one))),
            _ => format!("{column} = ANY({})", self.bind(Bind::Ints(values))),
        };
        self.and(clause);
    }

    /// The conditions, for a `WHERE`.
    pub fn where_clause(&self) -> String {
        if self.clauses.is_empty() { "TRUE".into() } else { self.clauses.join("\n  AND ") }
    }

    /// A query of the given text with this builder's values bound, in order.
    pub fn query<'a>(&self, text: String) -> BoxedSqlQuery<'a, Pg, SqlQuery> {
        let mut query = diesel::sql_query(text).into_boxed::<Pg>();
        for bind in self.binds.iter().cloned() {
            query = match bind {
                Bind::Text(value) => query.bind::<Text, _>(value),
                Bind::Texts(values) => query.bind::<Array<Text>, _>(values),
                Bind::Int(value) => query.bind::<Int4, _>(value),
                Bind::Ints(values) => query.bind::<Array<Int4>, _>(values),
                Bind::Uuid(value) => query.bind::<SqlUuid, _>(value),
                Bind::Uuids(values) => query.bind::<Array<SqlUuid>, _>(values),
                Bind::At(value) => query.bind::<Nullable<Timestamptz>, _>(value),
                Bind::Number(value) => query.bind::<Double, _>(value),
                Bind::Rank(value) => query.bind::<Float4, _>(value),
            };
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_the_order_values_are_bound() {
        let mut sql = Sql::default();
        sql.one_of_texts("events.region_code", vec!["53".into()]);
        sql.one_of_texts("events.format", vec!["webinar".into(), "workshop".into()]);
        let p = sql.bind(Bind::Int(2021));
        sql.and(format!("events.edition_year = {p}"));
        assert_eq!(
            sql.where_clause(),
            "events.region_code = $1\n  AND events.format = ANY($2)\n  AND events.edition_year = $3"
        );
    }

    #[test]
    fn no_condition_is_true() {
        assert_eq!(Sql::default().where_clause(), "TRUE");
    }
}
