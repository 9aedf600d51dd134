//! Uploaded registry files and what became of each: published as a release, rejected with the
//! problems found, or interrupted (the process died mid-import; the previous release stands).
//! An `Idempotency-Key` makes a retried upload answer with the first outcome instead of
//! publishing again.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::schema::imports;
use crate::models::audit;
use crate::models::registries::{
    self,
    import::{self, FileFormat, ImportError, ImportOptions, Publish},
};
use crate::models::releases::{self, Release, now};

pub const RUNNING: &str = "running";
pub const PUBLISHED: &str = "published";
pub const REJECTED: &str = "rejected";
pub const INTERRUPTED: &str = "interrupted";

/// One upload.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = imports)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[schema(example = json!({"id": 3, "registry": "housing-stock", "status": "published", "started_at": "2026-11-27T09:00:00Z", "finished_at": "2026-11-27T09:00:04Z", "actor": "tok_3f2a9c1b7d0e (Housing department)", "file_name": "housing-2026-11.csv", "media_type": "text/csv", "bytes": 48213, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "idempotency_key": "housing-2026-11", "release_id": 41, "problem": null}))]
pub struct Upload {
    pub id: i64,
    pub registry: String,
    /// `running`, `published`, `rejected` or `interrupted`.
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// The token that uploaded, as `<token id> (<name>)`.
    pub actor: String,
    /// The name the client gave the file (metadata only: the file is stored under our own name).
    pub file_name: Option<String>,
    pub media_type: String,
    pub bytes: i64,
    /// SHA-256 (hex) of the uploaded bytes.
    pub sha256: String,
    pub idempotency_key: Option<String>,
    /// The release it published (`releases.id`).
    pub release_id: Option<i64>,
    /// For a rejected upload: the problem answered (RFC 9457, with the lines at fault).
    #[serde(rename = "problem", serialize_with = "raw_json")]
    #[schema(value_type = Option<Object>)]
    pub problem_json: Option<String>,
}

fn raw_json<S: serde::Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let value: Option<serde_json::Value> =
        text.as_deref().and_then(|t| serde_json::from_str(t).ok());
    value.serialize(s)
}

/// An upload about to be imported.
#[derive(Debug, Clone)]
pub struct NewUpload<'a> {
    pub registry: &'a str,
    pub actor: &'a str,
    pub file_name: Option<&'a str>,
    pub media_type: &'a str,
    pub bytes: i64,
    pub sha256: &'a str,
    pub idempotency_key: Option<&'a str>,
}

/// The outcome of [`begin`].
#[derive(Debug)]
pub enum Begun {
    /// Recorded as running; this connection holds its lock until [`finish`].
    Started(i64),
    /// An upload with the same actor and idempotency key exists: answer with it.
    Repeated(Box<Upload>),
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Upload>> {
    imports::table
        .find(id)
        .select(Upload::as_select())
        .first(conn)
        .optional()
}

fn find_by_key(
    conn: &mut DbConn,
    registry: &str,
    actor: &str,
    key: &str,
) -> QueryResult<Option<Upload>> {
    imports::table
        .filter(imports::registry.eq(registry))
        .filter(imports::actor.eq(actor))
        .filter(imports::idempotency_key.eq(key))
        .select(Upload::as_select())
        .first(conn)
        .optional()
}

/// Records an upload as running (committed at once, so a crash leaves a trace), unless its
/// idempotency key was used before.
pub fn begin(conn: &mut DbConn, upload: &NewUpload<'_>) -> QueryResult<Begun> {
    if let Some(key) = upload.idempotency_key
        && let Some(earlier) = find_by_key(conn, upload.registry, upload.actor, key)?
    {
        // A `running` upload whose process died (PostgreSQL can tell at any time) is
        // interrupted: its key is free again, like that of any interrupted upload.
        let dead = earlier.status == RUNNING && conn.upload_abandoned(earlier.id, false)?;
        if earlier.status != INTERRUPTED && !dead {
            return Ok(Begun::Repeated(Box::new(earlier)));
        }
        if dead {
            diesel::update(imports::table.find(earlier.id))
                .set((
                    imports::status.eq(INTERRUPTED),
                    imports::finished_at.eq(Some(now())),
                ))
                .execute(conn)?;
        }
        // Interrupted uploads published nothing: the key may be tried again (the old record
        // stays, without the key).
        diesel::update(imports::table.find(earlier.id))
            .set(imports::idempotency_key.eq(None::<String>))
            .execute(conn)?;
    }
    let inserted = conn.write_transaction(|conn| -> QueryResult<i64> {
        let id = diesel::insert_into(imports::table)
            .values((
                imports::registry.eq(upload.registry),
                imports::status.eq(RUNNING),
                imports::started_at.eq(now()),
                imports::actor.eq(upload.actor),
                imports::file_name.eq(upload.file_name),
                imports::media_type.eq(upload.media_type),
                imports::bytes.eq(upload.bytes),
                imports::sha256.eq(upload.sha256),
                imports::idempotency_key.eq(upload.idempotency_key),
            ))
            .returning(imports::id)
            .get_result(conn)?;
        // Taken before the row becomes visible, so no sweep can see it running unlocked.
        conn.hold_upload_lock(id)?;
        Ok(id)
    });
    match inserted {
        Ok(id) => Ok(Begun::Started(id)),
        // The same key, sent twice at once: the other request won the insert.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => match upload
            .idempotency_key
            .map(|key| find_by_key(conn, upload.registry, upload.actor, key))
            .transpose()?
            .flatten()
        {
            Some(earlier) => Ok(Begun::Repeated(Box::new(earlier))),
            None => Err(diesel::result::Error::NotFound),
        },
        Err(e) => Err(e),
    }
}

/// Sets an upload's outcome. For `published`, call it inside the import's transaction.
pub fn finish(
    conn: &mut DbConn,
    id: i64,
    status: &str,
    release_id: Option<i64>,
    problem: Option<&serde_json::Value>,
) -> QueryResult<()> {
    diesel::update(imports::table.find(id))
        .set((
            imports::status.eq(status),
            imports::finished_at.eq(Some(now())),
            imports::release_id.eq(release_id),
            imports::problem_json.eq(problem.map(|p| p.to_string())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Frees the connection's mark of a running upload (after [`finish`] committed).
pub fn release_lock(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    conn.free_upload_lock(id)
}

/// Marks uploads whose process died as `interrupted`; returns how many. Run at start, and
/// before uploads are listed (PostgreSQL can tell a dead uploader from a live one at any time;
/// SQLite only at start).
pub fn mark_interrupted(conn: &mut DbConn, at_start: bool) -> QueryResult<usize> {
    let running: Vec<i64> = imports::table
        .filter(imports::status.eq(RUNNING))
        .select(imports::id)
        .load(conn)?;
    let mut marked = 0;
    for id in running {
        if conn.upload_abandoned(id, at_start)? {
            diesel::update(imports::table.find(id).filter(imports::status.eq(RUNNING)))
                .set((
                    imports::status.eq(INTERRUPTED),
                    imports::finished_at.eq(Some(now())),
                ))
                .execute(conn)?;
            marked += 1;
        }
    }
    Ok(marked)
}

/// A registry's uploads, newest first, before `before` (an upload id), at most `limit`.
pub fn list(
    conn: &mut DbConn,
    registry: &str,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<Upload>, i64)> {
    let total = imports::table
        .filter(imports::registry.eq(registry))
        .count()
        .get_result(conn)?;
    let mut query = imports::table
        .filter(imports::registry.eq(registry))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(imports::id.lt(before));
    }
    let rows = query
        .order(imports::id.desc())
        .limit(limit)
        .select(Upload::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// One upload to run: the registry, who sends it, and the spooled file.
pub struct UploadRun<'a> {
    pub slug: &'a str,
    pub actor: &'a str,
    pub file_name: Option<&'a str>,
    pub media_type: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub format: FileFormat,
    /// The release `If-Match` names: publish only as the one after it.
    pub expected: Option<i64>,
    pub max_rows: u64,
    /// A file without items may empty the registry.
    pub allow_empty: bool,
    /// The file, spooled; its size and SHA-256 (hex).
    pub path: &'a std::path::Path,
    pub bytes: u64,
    pub sha256: &'a str,
}

/// How an upload ended.
pub enum Ran {
    /// An upload with the same idempotency key ran before: its record and release.
    Replayed(Upload, Option<Release>),
    /// Published: the upload's record and the release (none when nothing changed).
    Done(Upload, Option<Release>),
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no registry with slug {0:?}")]
    NoRegistry(String),
    /// The file was refused (or the precondition failed); the refusal is recorded.
    #[error("{0}")]
    Rejected(ImportError),
    #[error("reopen spooled upload: {0}")]
    Spool(std::io::Error),
    #[error("upload {0} vanished")]
    Vanished(i64),
    /// Not the file's fault (busy, timeout, connection lost): the upload is recorded as
    /// interrupted, so a retry with the same key runs it again.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The cheap refusals before an upload's body is read: an unknown registry, or an `If-Match`
/// (`expected`) that no longer names the registry's latest release. [`run`] checks the
/// precondition again under the publishing lock, where it counts.
pub fn precheck(conn: &mut DbConn, slug: &str, expected: Option<i64>) -> Result<(), RunError> {
    if registries::find_row(conn, slug)?.is_none() {
        return Err(RunError::NoRegistry(slug.to_owned()));
    }
    let dataset = releases::registry_dataset(slug);
    let latest = releases::latest(conn, &dataset)?.map(|r| r.number);
    match expected {
        Some(expected) if latest != Some(expected) => {
            Err(RunError::Rejected(ImportError::Precondition(format!(
                "If-Match names {dataset}@{expected}, but the latest release is {}; read the \
                 registry again and retry",
                latest.unwrap_or(0)
            ))))
        }
        _ => Ok(()),
    }
}

/// Runs one upload on one connection, which holds the upload's running mark throughout: records
/// it as running (or finds the earlier run of its idempotency key), imports the file, and either
/// publishes the release and records the upload and its audit entry in one transaction, or
/// records the refusal (`problem` says how the refusal reads to the caller).
pub fn run(
    conn: &mut DbConn,
    upload: &UploadRun<'_>,
    problem: impl Fn(&ImportError) -> serde_json::Value,
) -> Result<Ran, RunError> {
    let slug = upload.slug;
    let registry =
        registries::find(conn, slug)?.ok_or_else(|| RunError::NoRegistry(slug.to_owned()))?;
    let dataset = releases::registry_dataset(slug);
    let label = upload.actor;
    // Opened before the upload is recorded, so no early return leaves it `running`.
    let file = std::fs::File::open(upload.path).map_err(RunError::Spool)?;
    let begun = begin(
        conn,
        &NewUpload {
            registry: slug,
            actor: label,
            file_name: upload.file_name,
            media_type: upload.media_type,
            bytes: upload.bytes as i64,
            sha256: upload.sha256,
            idempotency_key: upload.idempotency_key,
        },
    )?;
    let id = match begun {
        Begun::Repeated(earlier) => {
            let release = match earlier.release_id {
                Some(rid) => releases::find_by_id(conn, rid)?,
                None => None,
            };
            return Ok(Ran::Replayed(*earlier, release));
        }
        Begun::Started(id) => id,
    };
    let origin = format!(
        "upload {} by {label}",
        upload.file_name.unwrap_or("(unnamed file)")
    );
    let options = ImportOptions {
        origin: &origin,
        publish: Publish::Always,
        max_rows: Some(upload.max_rows),
        allow_empty: upload.allow_empty,
    };
    log::info!(
        "upload {id}: importing {} bytes into {slug} for {label}",
        upload.bytes
    );
    let file_name = upload.file_name;
    let result = import::import_with(
        conn,
        &registry,
        upload.format,
        file,
        &options,
        |conn, summary| {
            let release = summary.release.as_ref();
            if let (Some(expected), Some(release)) = (upload.expected, release)
                && release.number != expected + 1
            {
                return Err(ImportError::Precondition(format!(
                    "If-Match names {dataset}@{expected}, but release {} was published since; \
                 read the registry again and retry",
                    release.number - 1
                )));
            }
            finish(conn, id, PUBLISHED, release.map(|r| r.id), None)?;
            audit::record(
                conn,
                audit::Record {
                    actor: label,
                    action: "import.published",
                    target: &format!("registries/{slug}"),
                    before: None,
                    after: Some(serde_json::json!({
                        "upload_id": id, "file_name": file_name, "sha256": upload.sha256,
                        "bytes": upload.bytes, "rows": summary.rows,
                        "release": release.map(|r| r.number),
                    })),
                    release_id: release.map(|r| r.id),
                },
            )?;
            Ok(())
        },
    );
    let outcome = match result {
        Ok(summary) => Ok(summary.release),
        Err(ImportError::Database(e)) => {
            if let Err(e) = finish(conn, id, INTERRUPTED, None, None) {
                log::error!("upload {id}: recording the interruption failed: {e}");
            }
            if let Err(e) = release_lock(conn, id) {
                log::warn!("upload {id}: freeing its running mark failed: {e}");
            }
            return Err(RunError::Database(e));
        }
        Err(refused) => {
            let problem = problem(&refused);
            let recorded = conn.write_transaction(|conn| -> QueryResult<()> {
                finish(conn, id, REJECTED, None, Some(&problem))?;
                audit::record(
                    conn,
                    audit::Record {
                        actor: label,
                        action: "import.rejected",
                        target: &format!("registries/{slug}"),
                        before: None,
                        after: Some(serde_json::json!({
                            "upload_id": id, "file_name": file_name, "sha256": upload.sha256,
                            "problem": problem,
                        })),
                        release_id: None,
                    },
                )
            });
            if let Err(e) = recorded {
                log::error!("upload {id}: recording the refusal failed: {e}");
            }
            Err(RunError::Rejected(refused))
        }
    };
    if let Err(e) = release_lock(conn, id) {
        log::warn!("upload {id}: freeing its running mark failed: {e}");
    }
    let release = outcome?;
    let upload = find(conn, id)?.ok_or(RunError::Vanished(id))?;
    Ok(Ran::Done(upload, release))
}
