use diesel::prelude::*;
use uuid::Uuid;

use super::model::{Account, NewAccount, Role};
use crate::error::ApiError;
use crate::schema::accounts;

pub fn find_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Option<Account>> {
    accounts::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = lower(")
                .bind::<diesel::sql_types::Text, _>(email)
                .sql(")"),
        )
        .select(Account::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Account>> {
    accounts::table.find(id).select(Account::as_select()).first(conn).optional()
}

pub fn create(
    conn: &mut PgConnection,
    email: &str,
    password_hash: &str,
    role: Role,
    organizer_id: Option<Uuid>,
) -> Result<Account, ApiError> {
    let row = NewAccount { id: Uuid::now_v7(), email: email.trim(), password_hash, role: role.as_str(), organizer_id };
    Ok(diesel::insert_into(accounts::table).values(&row).returning(Account::as_returning()).get_result(conn)?)
}

pub fn record_login(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(accounts::table.find(id)).set(accounts::last_login_at.eq(diesel::dsl::now)).execute(conn).map(drop)
}
