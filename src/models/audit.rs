//! The audit log: who changed what, when, with the record before and after. Written in the same
//! transaction as the change it describes, so the two never disagree.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::schema::audit_log;
use crate::models::releases::now;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct AuditRow {
    id: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    before_json: Option<String>,
    after_json: Option<String>,
    release_id: Option<i64>,
}

/// One audited write.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": 4, "at": "2026-11-27T09:12:03Z", "actor": "tok_3f2a9c1b7d0e (Department of Urban Planning)", "action": "milestone.update", "target": "milestones/khm-2021-2025-c1-m3", "before": {"status": null}, "after": {"status": "complete"}, "release_id": 12}))]
pub struct AuditEntry {
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The token that wrote, as `<token id> (<name>)`; `cli` for the command line.
    pub actor: String,
    /// `milestone.update`, `progress_update.create`, `import.published`, `import.rejected`, …
    pub action: String,
    /// The record or resource written (`milestones/<id>`, `registries/<slug>`).
    pub target: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The release the write published, if it published one.
    pub release_id: Option<i64>,
}

/// What to record.
pub struct Record<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub release_id: Option<i64>,
}

pub fn record(conn: &mut DbConn, entry: Record<'_>) -> QueryResult<()> {
    // Entries become visible in id order (readers page with `after=<id>`), as change events do:
    // one writer at a time until commit. Callers are inside a write transaction.
    conn.lock_publishing()?;
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now()),
            audit_log::actor.eq(entry.actor),
            audit_log::action.eq(entry.action),
            audit_log::target.eq(entry.target),
            audit_log::before_json.eq(entry.before.map(|v| v.to_string())),
            audit_log::after_json.eq(entry.after.map(|v| v.to_string())),
            audit_log::release_id.eq(entry.release_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Entries after `after` (an entry id), oldest first, at most `limit`; plus the total.
pub fn list(
    conn: &mut DbConn,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<AuditEntry>, i64)> {
    let total = audit_log::table.count().get_result(conn)?;
    let rows: Vec<AuditRow> = audit_log::table
        .filter(audit_log::id.gt(after.unwrap_or(0)))
        .order(audit_log::id.asc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)?;
    let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            target: r.target,
            before: json(r.before_json),
            after: json(r.after_json),
            release_id: r.release_id,
        })
        .collect();
    Ok((entries, total))
}
