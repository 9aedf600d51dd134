//! Releases and the change log. A release is an immutable, numbered version of one dataset — the
//! plan (`plan`) or one registry (`registries/<slug>`). Creating one records its change events;
//! the records' contents stay with the data (item tables, `plan_record_versions`), so storage grows
//! with what changed.

use chrono::{SecondsFormat, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::schema::{change_retention, changes, releases};

/// The dataset name of the action plan data.
pub const PLAN: &str = "plan";

/// The dataset name of a registry's items.
pub fn registry_dataset(slug: &str) -> String {
    format!("registries/{slug}")
}

/// The registry slug of a dataset name, if it is a registry.
pub fn registry_of(dataset: &str) -> Option<&str> {
    dataset.strip_prefix("registries/")
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = releases)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[schema(example = json!({"id": 9, "dataset": "registries/housing-stock", "number": 2, "created_at": "2026-11-26T18:02:11Z", "row_count": 1200, "added": 3, "changed": 17, "removed": 1, "sha256": "5d41402abc4b2a76b9719d911017c592a1f5c1d0e9b2f6a4f8e1d2c3b4a59687", "origin": "import housing-stock.csv", "byte_size": 482113}))]
pub struct Release {
    /// Position among all releases of all datasets (the change feed's order).
    pub id: i64,
    /// `plan` or `registries/<slug>`.
    pub dataset: String,
    /// 1, 2, … within the dataset; what `?release=` takes.
    pub number: i64,
    /// When the release was published (RFC 3339, UTC).
    pub created_at: String,
    /// Records in the dataset at this release.
    pub row_count: i64,
    pub added: i64,
    pub changed: i64,
    pub removed: i64,
    /// SHA-256 (hex) of the release's canonical export: for a registry, the bytes of
    /// `items.ndjson?release=<number>`; for the plan, of `/api/v1/plan/releases/<number>/records`.
    pub sha256: String,
    /// What made it: `fixtures`, `import <file>`, …
    pub origin: String,
    /// Size in bytes of the canonical export (what `sha256` covers); `null` for releases
    /// published before sizes were recorded.
    pub byte_size: Option<i64>,
}

/// The latest release of a dataset.
pub fn latest(conn: &mut DbConn, dataset: &str) -> QueryResult<Option<Release>> {
    releases::table
        .filter(releases::dataset.eq(dataset))
        .order(releases::number.desc())
        .select(Release::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, dataset: &str, number: i64) -> QueryResult<Option<Release>> {
    releases::table
        .filter(releases::dataset.eq(dataset))
        .filter(releases::number.eq(number))
        .select(Release::as_select())
        .first(conn)
        .optional()
}

/// A release number its dataset does not have, and the newest it has (to say so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingRelease {
    pub dataset: String,
    pub number: i64,
    pub latest: Option<i64>,
}

impl std::fmt::Display for MissingRelease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (number, dataset) = (self.number, &self.dataset);
        match self.latest {
            Some(latest) => write!(f, "release={number}: {dataset} has releases 1 to {latest}"),
            None => write!(f, "release={number}: {dataset} has no release yet"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("{0}")]
    Missing(MissingRelease),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Release `number` of `dataset`, or what the dataset has instead.
pub fn find_numbered(conn: &mut DbConn, dataset: &str, number: i64) -> Result<Release, FindError> {
    match find(conn, dataset, number)? {
        Some(release) => Ok(release),
        None => Err(FindError::Missing(MissingRelease {
            dataset: dataset.to_owned(),
            number,
            latest: latest(conn, dataset)?.map(|r| r.number),
        })),
    }
}

/// The release a read names: the one pinned (`?release=`), else the latest (none before the
/// first import).
pub fn read_at(
    conn: &mut DbConn,
    dataset: &str,
    pinned: Option<i64>,
) -> Result<Option<Release>, FindError> {
    match pinned {
        Some(number) => find_numbered(conn, dataset, number).map(Some),
        None => Ok(latest(conn, dataset)?),
    }
}

pub fn find_by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Release>> {
    releases::table
        .find(id)
        .select(Release::as_select())
        .first(conn)
        .optional()
}

/// Releases of one dataset (or of all, with `None`), newest first, after `before` (a number
/// within the dataset, or an id across datasets), at most `limit` (+1 to see whether more follow).
pub fn list(
    conn: &mut DbConn,
    dataset: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Release>> {
    let mut query = releases::table.select(Release::as_select()).into_boxed();
    match dataset {
        Some(d) => {
            query = query
                .filter(releases::dataset.eq(d.to_owned()))
                .order(releases::number.desc());
            if let Some(b) = before {
                query = query.filter(releases::number.lt(b));
            }
        }
        None => {
            query = query.order(releases::id.desc());
            if let Some(b) = before {
                query = query.filter(releases::id.lt(b));
            }
        }
    }
    query.limit(limit).load(conn)
}

pub fn count(conn: &mut DbConn, dataset: &str) -> QueryResult<i64> {
    releases::table
        .filter(releases::dataset.eq(dataset))
        .count()
        .get_result(conn)
}

/// The newest release id of all datasets (0 before any release).
pub fn head(conn: &mut DbConn) -> QueryResult<i64> {
    let max: Option<i64> = releases::table
        .select(diesel::dsl::max(releases::id))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

/// A release being written inside the caller's transaction: open it, record its changes, then
/// `finish` it with the counts and checksum.
pub struct Draft {
    pub id: i64,
    pub dataset: String,
    pub number: i64,
}

pub fn open(conn: &mut DbConn, dataset: &str, origin: &str) -> QueryResult<Draft> {
    // Change ids must become visible in order, or a feed reader could pass one still being
    // written: one publisher at a time until commit.
    conn.lock_publishing()?;
    let last: Option<i64> = releases::table
        .filter(releases::dataset.eq(dataset))
        .select(diesel::dsl::max(releases::number))
        .first(conn)?;
    let number = last.unwrap_or(0) + 1;
    diesel::insert_into(releases::table)
        .values((
            releases::dataset.eq(dataset),
            releases::number.eq(number),
            releases::created_at.eq(now()),
            releases::row_count.eq(0),
            releases::added.eq(0),
            releases::changed.eq(0),
            releases::removed.eq(0),
            releases::sha256.eq(""),
            releases::origin.eq(origin),
        ))
        .execute(conn)?;
    let id = releases::table
        .filter(releases::dataset.eq(dataset))
        .filter(releases::number.eq(number))
        .select(releases::id)
        .first(conn)?;
    Ok(Draft {
        id,
        dataset: dataset.to_owned(),
        number,
    })
}

/// The canonical export of a release: what its checksum and size describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportDigest {
    /// SHA-256, lower-case hex.
    pub sha256: String,
    pub byte_size: i64,
}

/// Counts the draft's change events and stores them with the row count, checksum and size.
pub fn finish(
    conn: &mut DbConn,
    draft: &Draft,
    row_count: i64,
    export: &ExportDigest,
) -> QueryResult<Release> {
    let ops: Vec<(String, i64)> = changes::table
        .filter(changes::release_id.eq(draft.id))
        .group_by(changes::op)
        .select((changes::op, diesel::dsl::count_star()))
        .load(conn)?;
    let of = |op: &str| ops.iter().find(|(o, _)| o == op).map_or(0, |(_, n)| *n);
    diesel::update(releases::table.find(draft.id))
        .set((
            releases::row_count.eq(row_count),
            releases::added.eq(of(Op::Created.as_str())),
            releases::changed.eq(of(Op::Updated.as_str())),
            releases::removed.eq(of(Op::Deleted.as_str())),
            releases::sha256.eq(&export.sha256),
            releases::byte_size.eq(Some(export.byte_size)),
        ))
        .execute(conn)?;
    Ok(find_by_id(conn, draft.id)?.expect("the release was just written"))
}

/// Number of change events a draft has recorded.
pub fn change_count(conn: &mut DbConn, draft_id: i64) -> QueryResult<i64> {
    changes::table
        .filter(changes::release_id.eq(draft_id))
        .count()
        .get_result(conn)
}

/// Removes a draft that recorded no change (only valid inside its transaction).
pub fn discard(conn: &mut DbConn, draft: &Draft) -> QueryResult<()> {
    diesel::delete(releases::table.find(draft.id)).execute(conn)?;
    Ok(())
}

pub(crate) fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Created,
    Updated,
    Deleted,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Created => "created",
            Op::Updated => "updated",
            Op::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "created" => Some(Op::Created),
            "updated" => Some(Op::Updated),
            "deleted" => Some(Op::Deleted),
            _ => None,
        }
    }
}

/// Records one change event of a draft release.
pub fn record_change(
    conn: &mut DbConn,
    draft: &Draft,
    record_type: &str,
    record_id: &str,
    op: Op,
) -> QueryResult<()> {
    diesel::insert_into(changes::table)
        .values((
            changes::release_id.eq(draft.id),
            changes::record_type.eq(record_type),
            changes::record_id.eq(record_id),
            changes::op.eq(op.as_str()),
        ))
        .execute(conn)?;
    Ok(())
}

/// One event of the change log with the release it belongs to.
#[derive(Debug, Clone, Queryable)]
pub struct ChangeRow {
    pub id: i64,
    pub record_type: String,
    pub record_id: String,
    pub op: String,
    pub release: Release,
}

/// Events after change `after`, oldest first, optionally of one dataset, at most `limit`.
pub fn changes_after(
    conn: &mut DbConn,
    after: i64,
    dataset: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<ChangeRow>> {
    let mut query = changes::table
        .inner_join(releases::table)
        .filter(changes::id.gt(after))
        .order(changes::id.asc())
        .select((
            changes::id,
            changes::record_type,
            changes::record_id,
            changes::op,
            Release::as_select(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some(d) = dataset {
        query = query.filter(releases::dataset.eq(d.to_owned()));
    }
    query.load(conn)
}

/// The newest change id (0 before any change).
pub fn last_change(conn: &mut DbConn) -> QueryResult<i64> {
    let max: Option<i64> = changes::table
        .select(diesel::dsl::max(changes::id))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

/// Change ids up to this one were pruned (0 when nothing was).
pub fn pruned_through(conn: &mut DbConn) -> QueryResult<i64> {
    Ok(change_retention::table
        .select(change_retention::pruned_through)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Deletes the change events of releases older than `keep_from` (a release id); returns the
/// number deleted. Releases and record versions stay, so pinned reads keep working.
pub fn prune_changes(conn: &mut DbConn, keep_from: i64) -> QueryResult<usize> {
    conn.write_transaction(|conn| {
        let through: Option<i64> = changes::table
            .filter(changes::release_id.lt(keep_from))
            .select(diesel::dsl::max(changes::id))
            .first(conn)?;
        let Some(through) = through else {
            return Ok(0);
        };
        let deleted =
            diesel::delete(changes::table.filter(changes::id.le(through))).execute(conn)?;
        let updated = diesel::update(change_retention::table.find(1))
            .set(change_retention::pruned_through.eq(through))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(change_retention::table)
                .values((
                    change_retention::id.eq(1),
                    change_retention::pruned_through.eq(through),
                ))
                .execute(conn)?;
        }
        Ok(deleted)
    })
}

/// The release a response was read from, as it appears in JSON bodies.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleaseRef {
    /// `plan` or `registries/<slug>`.
    pub dataset: String,
    pub number: i64,
    pub created_at: String,
    /// Whether the request pinned this release (`?release=`); unpinned reads show the latest.
    pub pinned: bool,
}

impl ReleaseRef {
    pub fn new(release: &Release, pinned: bool) -> Self {
        ReleaseRef {
            dataset: release.dataset.clone(),
            number: release.number,
            created_at: release.created_at.clone(),
            pinned,
        }
    }
}
