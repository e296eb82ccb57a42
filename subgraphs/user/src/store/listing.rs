//! The back-office listing: visible accounts oldest first, filtered, one page after a cursor.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tenor_platform::cursor::Cursor;

use super::profiles::Row;
use super::schema::user_profile::{self, dsl as p};
use crate::domain::{AccountStatus, Profile};

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<AccountStatus>,
    /// Substring of email, phone number or name, case-insensitive.
    pub query: Option<String>,
}

/// Up to `limit` visible profiles matching `filter`, oldest first, after `after` (a position
/// in (created_at, id) order).
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &ListFilter,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<Profile>> {
    let mut query = user_profile::table
        .select(Row::as_select())
        .filter(p::status.ne(AccountStatus::Deleted))
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(p::status.eq(status));
    }
    if let Some(text) = filter.query.as_deref() {
        let pattern = format!("%{}%", escape_like(text));
        query = query.filter(
            p::email
                .ilike(pattern.clone())
                .or(p::phone_number.ilike(pattern.clone()))
                .or(p::fullname.ilike(pattern).nullable())
                .assume_not_null(),
        );
    }
    if let Some(after) = after {
        query = query.filter(
            p::created_at
                .gt(after.at)
                .or(p::created_at.eq(after.at).and(p::id.gt(after.id))),
        );
    }
    let rows: Vec<Row> = query
        .order((p::created_at.asc(), p::id.asc()))
        .limit(limit)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Profile::from).collect())
}

/// `%`, `_` and `\` typed by staff are literal characters, not patterns.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(escape_like("siti"), "siti");
    }
}
