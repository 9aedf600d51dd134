//! The change feed: every created / updated / deleted record of every release, in release order,
//! with the record's content as the release wrote it (deleted records carry none).

use std::collections::{BTreeMap, HashMap};

use diesel::QueryResult;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::items::{self, Condition, Select, Version};
use crate::models::plan_release;
use crate::models::registries;
use crate::models::releases::{self, ChangeRow, PLAN, registry_of};

/// One event of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangeEvent {
    /// Position in the feed (increasing).
    pub id: i64,
    /// `plan` or `registries/<slug>`.
    pub dataset: String,
    /// The dataset's release that made the change.
    pub release: i64,
    /// When that release was published.
    pub published_at: String,
    /// `item` for registry items; the table name for plan records (`milestones`, …).
    pub record_type: String,
    pub record_id: String,
    pub op: releases::Op,
    /// The record after the change (`{id, properties, geometry}` for items, the row for plan
    /// records); null for deletions.
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

/// Events after change `after`, at most `limit`, optionally of one dataset.
pub fn after(
    conn: &mut DbConn,
    after: i64,
    dataset: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<ChangeEvent>> {
    let rows = releases::changes_after(conn, after, dataset, limit)?;
    // Contents are read per release: one query for every item it touched in this page.
    let mut wanted: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.op != "deleted") {
        wanted
            .entry((r.release.dataset.clone(), r.release.number))
            .or_default()
            .push(r.record_id.clone());
    }
    let mut contents: HashMap<(String, i64, String, String), Value> = HashMap::new();
    for ((dataset, number), ids) in wanted {
        if dataset == PLAN {
            let keys: Vec<(String, String)> = rows
                .iter()
                .filter(|r| r.release.dataset == PLAN && r.release.number == number)
                .map(|r| (r.record_type.clone(), r.record_id.clone()))
                .collect();
            for ((t, i), doc) in plan_release::documents_written_by(conn, number, &keys)? {
                contents.insert((dataset.clone(), number, t, i), doc);
            }
        } else if let Some(slug) = registry_of(&dataset) {
            let Some(registry) = registries::find_schema(conn, slug)? else {
                continue;
            };
            let found = items::select(
                conn,
                &registry.row.table_name,
                &Select {
                    version: Version::AsOf(number),
                    conditions: vec![Condition::ItemIds(ids)],
                    ..Select::default()
                },
            )?;
            for row in found {
                let mut line = String::new();
                registries::write_canonical_item(&row, &mut line);
                let value = serde_json::from_str(&line).unwrap_or(Value::Null);
                contents.insert((dataset.clone(), number, "item".into(), row.item_id), value);
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|r: ChangeRow| {
            let op = releases::Op::parse(&r.op).unwrap_or(releases::Op::Updated);
            let data = contents.remove(&(
                r.release.dataset.clone(),
                r.release.number,
                r.record_type.clone(),
                r.record_id.clone(),
            ));
            ChangeEvent {
                id: r.id,
                dataset: r.release.dataset,
                release: r.release.number,
                published_at: r.release.created_at,
                record_type: r.record_type,
                record_id: r.record_id,
                op,
                data,
            }
        })
        .collect())
}
