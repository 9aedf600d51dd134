//! Edits of plan data by the city's staff through the write API: a milestone's status and
//! completion, and progress updates. Each edit is one transaction that also cites its evidence
//! as sources, publishes the next plan release (so the change feed and Atom feeds see it) and
//! writes an audit record.

use std::collections::HashSet;

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;

use crate::db::DbConn;
use crate::db::schema::{
    localized_texts, milestones, plan_record_versions, progress_updates, record_sources, sources,
};
use crate::models::audit;
use crate::models::entity;
use crate::models::lang::{Lang, Wording};
use crate::models::milestones::MilestoneRow;
use crate::models::plan_release;
use crate::models::releases::{self, PLAN, Release};
use crate::models::vocab::MilestoneStatus;

/// A document that shows the reported progress.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// An http(s) URL (validated by the caller).
    pub url: String,
    pub title: Option<String>,
}

/// A note in one language.
#[derive(Debug, Clone)]
pub struct Note {
    pub lang: Lang,
    pub text: String,
}

/// A change of a milestone.
#[derive(Debug, Clone)]
pub struct MilestoneEdit {
    pub status: Option<MilestoneStatus>,
    /// Percent complete, 0–100; recorded as a progress update (`metric = completion_percent`).
    pub completion: Option<f64>,
    pub note: Option<Note>,
    pub evidence: Vec<Evidence>,
}

/// A new progress update of a milestone.
#[derive(Debug, Clone)]
pub struct NewProgressUpdate {
    /// When the report was made: a partial date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`); today (UTC)
    /// when not given.
    pub reported_on: Option<String>,
    /// When the reported event happened (a partial date), if the writer says.
    pub occurred: Option<String>,
    pub claim: Note,
    pub metric: Option<String>,
    pub value: Option<f64>,
    pub evidence: Vec<Evidence>,
}

/// The metric name of a completion percentage.
pub const COMPLETION_METRIC: &str = "completion_percent";

/// What the writer read: the plan release its copy came from (from `If-Match`).
#[derive(Debug, Clone, Copy)]
pub struct ReadRelease(pub i64);

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("no milestone {0:?}")]
    NotFound(String),
    /// The record changed after the release the writer read (`If-Match` failed).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// What an edit did.
#[derive(Debug, Clone)]
pub struct Edited {
    pub milestone_id: String,
    /// A progress update the edit created.
    pub progress_update_id: Option<String>,
    pub release: Option<Release>,
}

fn find_row(conn: &mut DbConn, id: &str) -> Result<MilestoneRow, EditError> {
    milestones::table
        .find(id)
        .select(MilestoneRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| EditError::NotFound(id.to_owned()))
}

/// `If-Match`: the milestone must be as it was in the release the writer read.
fn check_read(conn: &mut DbConn, id: &str, read: Option<ReadRelease>) -> Result<(), EditError> {
    let Some(ReadRelease(read)) = read else {
        return Ok(());
    };
    let latest = releases::latest(conn, PLAN)?.map_or(0, |r| r.number);
    if read > latest {
        return Err(EditError::Conflict(format!(
            "If-Match names plan release {read}, but the latest is {latest}"
        )));
    }
    match changed_after(conn, id, read)? {
        Some(from) => Err(EditError::Conflict(format!(
            "milestone {id} changed in plan release {from}, after release {read} that \
             If-Match names; read it again and retry"
        ))),
        None => Ok(()),
    }
}

/// The first plan release after `read` that changed anything a milestone's representation
/// holds: its row, texts, sources and field provenance, its progress updates (with theirs), its
/// involvements, and the sources they cite. Read from the versioned records, so a change is
/// seen whatever wrote it.
fn changed_after(conn: &mut DbConn, id: &str, read: i64) -> QueryResult<Option<i64>> {
    type Version = (String, String, i64, Option<i64>, String);
    let versions: Vec<Version> = plan_record_versions::table
        .select((
            plan_record_versions::record_type,
            plan_record_versions::record_id,
            plan_record_versions::valid_from,
            plan_record_versions::valid_to,
            plan_record_versions::document,
        ))
        .load(conn)?;
    let about_it = |doc: &str| {
        serde_json::from_str::<serde_json::Value>(doc)
            .is_ok_and(|d| d["milestone_id"].as_str() == Some(id))
    };
    // Every progress update ever attached to it, so a removed one counts too.
    let updates: HashSet<&str> = versions
        .iter()
        .filter(|(table, _, _, _, doc)| table == "progress_updates" && about_it(doc))
        .map(|(_, key, ..)| key.as_str())
        .collect();
    let owned = |entity_type: &str, entity_id: &str| {
        (entity_type == entity::MILESTONE && entity_id == id)
            || (entity_type == entity::PROGRESS_UPDATE && updates.contains(entity_id))
    };
    let cited: HashSet<String> = versions
        .iter()
        .filter(|(table, key, ..)| {
            table == "record_sources" && {
                let mut parts = key.splitn(3, '/');
                matches!((parts.next(), parts.next()), (Some(t), Some(e)) if owned(t, e))
            }
        })
        .filter_map(|(_, key, ..)| key.rsplit('/').next().map(str::to_owned))
        .collect();
    let belongs = |table: &str, key: &str, doc: &str| match table {
        "milestones" => key == id,
        "progress_updates" | "involvements" => about_it(doc),
        "sources" => cited.contains(key),
        "localized_texts" | "record_sources" | "field_provenance" => {
            let mut parts = key.splitn(3, '/');
            matches!((parts.next(), parts.next()), (Some(t), Some(e)) if owned(t, e))
        }
        _ => false,
    };
    Ok(versions
        .iter()
        .filter(|(table, key, _, _, doc)| belongs(table, key, doc))
        .flat_map(|(_, _, from, to, _)| [Some(*from), *to])
        .flatten()
        .filter(|release| *release > read)
        .min())
}

/// Stores each evidence document as a source cited by `(entity_type, entity_id)`; returns
/// their ids. Ids name the release they arrive in, so they are unique and readable.
fn cite_evidence(
    conn: &mut DbConn,
    actor: &str,
    release: i64,
    tag: &str,
    evidence: &[Evidence],
    lang: Lang,
    cited_by: &[(&str, &str)],
) -> QueryResult<Vec<String>> {
    let today = Utc::now().format("%Y-%m-%d");
    let mut ids = Vec::new();
    for (i, e) in evidence.iter().enumerate() {
        let id = format!("evidence-plan{release}-{tag}-{}", i + 1);
        diesel::insert_into(sources::table)
            .values((
                sources::id.eq(&id),
                sources::title.eq(e.title.clone().unwrap_or_else(|| e.url.clone())),
                sources::url.eq(Some(&e.url)),
                sources::seed_file.eq(None::<String>),
                sources::publisher.eq(None::<String>),
                sources::lang.eq(lang.code()),
                sources::excerpt_cut.eq(false),
                sources::note.eq(Some(format!(
                    "Submitted through the write API by {actor} on {today}"
                ))),
            ))
            .execute(conn)?;
        for (entity_type, entity_id) in cited_by {
            diesel::insert_into(record_sources::table)
                .values((
                    record_sources::entity_type.eq(*entity_type),
                    record_sources::entity_id.eq(*entity_id),
                    record_sources::source_id.eq(&id),
                ))
                .execute(conn)?;
        }
        ids.push(id);
    }
    Ok(ids)
}

fn next_plan_release(conn: &mut DbConn) -> QueryResult<i64> {
    Ok(releases::latest(conn, PLAN)?.map_or(0, |r| r.number) + 1)
}

/// Inserts a progress update of a milestone with its claim and sources.
fn insert_progress_update(
    conn: &mut DbConn,
    id: &str,
    milestone_id: &str,
    update: &NewProgressUpdate,
    source_ids: &[String],
) -> QueryResult<()> {
    let reported_on = update
        .reported_on
        .clone()
        .unwrap_or_else(|| Utc::now().format("%Y-%m-%d").to_string());
    diesel::insert_into(progress_updates::table)
        .values((
            progress_updates::id.eq(id),
            progress_updates::action_plan_id.eq(None::<String>),
            progress_updates::commitment_id.eq(None::<String>),
            progress_updates::milestone_id.eq(Some(milestone_id)),
            progress_updates::reported_on.eq(Some(reported_on)),
            progress_updates::metric.eq(&update.metric),
            progress_updates::value.eq(update.value),
            progress_updates::occurred.eq(&update.occurred),
        ))
        .execute(conn)?;
    if !update.claim.text.is_empty() {
        diesel::insert_into(localized_texts::table)
            .values((
                localized_texts::entity_type.eq(entity::PROGRESS_UPDATE),
                localized_texts::entity_id.eq(id),
                localized_texts::field.eq("claim"),
                localized_texts::lang.eq(update.claim.lang.code()),
                localized_texts::value.eq(&update.claim.text),
                localized_texts::source_id.eq(source_ids.first()),
                // The writer's words about the evidence, not the evidence's own words.
                localized_texts::wording.eq(Wording::Summary.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn milestone_json(row: &MilestoneRow) -> serde_json::Value {
    serde_json::to_value(row).unwrap_or(serde_json::Value::Null)
}

/// Changes a milestone's status and/or records its completion and a note, citing the evidence;
/// publishes a plan release and audits it, all in one transaction.
pub fn update_milestone(
    conn: &mut DbConn,
    actor: &str,
    id: &str,
    edit: &MilestoneEdit,
    read: Option<ReadRelease>,
) -> Result<Edited, EditError> {
    conn.write_transaction(|conn| {
        conn.lock_publishing()?;
        let before = find_row(conn, id)?;
        check_read(conn, id, read)?;
        let release = next_plan_release(conn)?;
        let lang = edit.note.as_ref().map_or(Lang::Uk, |n| n.lang);
        let mut cited_by = vec![(entity::MILESTONE, id)];
        let update_id = (edit.completion.is_some() || edit.note.is_some())
            .then(|| format!("progress-plan{release}-{id}"));
        if let Some(update_id) = &update_id {
            cited_by.push((entity::PROGRESS_UPDATE, update_id.as_str()));
        }
        let source_ids = cite_evidence(conn, actor, release, id, &edit.evidence, lang, &cited_by)?;
        if let Some(status) = edit.status {
            diesel::update(milestones::table.find(id))
                .set((
                    milestones::status.eq(Some(status.as_str())),
                    milestones::status_source_id.eq(source_ids.first()),
                ))
                .execute(conn)?;
        }
        if let Some(update_id) = &update_id {
            let update = NewProgressUpdate {
                reported_on: None,
                occurred: None,
                claim: edit.note.clone().unwrap_or(Note {
                    lang,
                    text: String::new(),
                }),
                metric: edit.completion.map(|_| COMPLETION_METRIC.to_owned()),
                value: edit.completion,
                evidence: Vec::new(),
            };
            insert_progress_update(conn, update_id, id, &update, &source_ids)?;
        }
        let after = find_row(conn, id)?;
        let published = plan_release::publish(conn, &format!("milestone.update by {actor}"))?;
        audit::record(
            conn,
            audit::Record {
                actor,
                action: "milestone.update",
                target: &format!("milestones/{id}"),
                before: Some(milestone_json(&before)),
                after: Some(json!({
                    "milestone": milestone_json(&after),
                    "progress_update_id": update_id,
                    "sources": source_ids,
                })),
                release_id: published.as_ref().map(|r| r.id),
            },
        )?;
        Ok(Edited {
            milestone_id: id.to_owned(),
            progress_update_id: update_id,
            release: published,
        })
    })
}

/// Adds a progress update to a milestone, citing the evidence; publishes and audits it.
pub fn add_progress_update(
    conn: &mut DbConn,
    actor: &str,
    milestone_id: &str,
    update: &NewProgressUpdate,
    read: Option<ReadRelease>,
) -> Result<Edited, EditError> {
    conn.write_transaction(|conn| {
        conn.lock_publishing()?;
        find_row(conn, milestone_id)?;
        check_read(conn, milestone_id, read)?;
        let release = next_plan_release(conn)?;
        let update_id = format!("progress-plan{release}-{milestone_id}");
        let source_ids = cite_evidence(
            conn,
            actor,
            release,
            milestone_id,
            &update.evidence,
            update.claim.lang,
            &[(entity::PROGRESS_UPDATE, update_id.as_str())],
        )?;
        insert_progress_update(conn, &update_id, milestone_id, update, &source_ids)?;
        let published = plan_release::publish(conn, &format!("progress_update.create by {actor}"))?;
        audit::record(
            conn,
            audit::Record {
                actor,
                action: "progress_update.create",
                target: &format!("progress_updates/{update_id}"),
                before: None,
                after: Some(json!({
                    "milestone_id": milestone_id,
                    "reported_on": update.reported_on,
                    "occurred": update.occurred,
                    "claim": {"lang": update.claim.lang.code(), "text": update.claim.text},
                    "metric": update.metric,
                    "value": update.value,
                    "sources": source_ids,
                })),
                release_id: published.as_ref().map(|r| r.id),
            },
        )?;
        Ok(Edited {
            milestone_id: milestone_id.to_owned(),
            progress_update_id: Some(update_id),
            release: published,
        })
    })
}
