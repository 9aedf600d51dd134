//! What the Atom feeds read: the newest change events of the plan's milestones and progress
//! updates, each with the record's versions before and after, and the newest releases with what
//! the feeds say about their registries. No HTTP here: `api::atom` writes the documents.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::db::DbConn;
use crate::db::schema::registries;
use crate::models::entity;
use crate::models::lang::TextBundle;
use crate::models::milestones::MilestoneRow;
use crate::models::plan_release;
use crate::models::progress::ProgressUpdateRow;
use crate::models::provenance::load_texts;
use crate::models::releases::{self, Op, PLAN, Release};

/// Plan record types whose changes are plan activity.
pub const MILESTONES: &str = "milestones";
pub const PROGRESS_UPDATES: &str = "progress_updates";

/// The versions of the changed record around one change event: `before` is absent for a
/// creation, `after` for a deletion.
#[derive(Debug, Clone)]
pub enum Versions {
    Milestone {
        before: Option<MilestoneRow>,
        after: Option<MilestoneRow>,
    },
    ProgressUpdate {
        before: Option<ProgressUpdateRow>,
        after: Option<ProgressUpdateRow>,
    },
}

/// The record a progress update reports on (its most specific link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportsOn {
    Milestone(String),
    Commitment(String),
    Plan(String),
}

impl ReportsOn {
    fn of(update: &ProgressUpdateRow) -> Option<Self> {
        update
            .milestone_id
            .clone()
            .map(ReportsOn::Milestone)
            .or_else(|| update.commitment_id.clone().map(ReportsOn::Commitment))
            .or_else(|| update.action_plan_id.clone().map(ReportsOn::Plan))
    }

    pub fn id(&self) -> &str {
        match self {
            ReportsOn::Milestone(id) | ReportsOn::Commitment(id) | ReportsOn::Plan(id) => id,
        }
    }

    fn entity_type(&self) -> &'static str {
        match self {
            ReportsOn::Milestone(_) => entity::MILESTONE,
            ReportsOn::Commitment(_) => entity::COMMITMENT,
            ReportsOn::Plan(_) => entity::ACTION_PLAN,
        }
    }
}

/// One change of a milestone or progress update.
#[derive(Debug, Clone)]
pub struct PlanActivity {
    /// The plan release that made the change.
    pub release: Release,
    pub record_id: String,
    pub op: Op,
    pub versions: Versions,
    /// Fields whose value differs between `before` and `after`, in the row's field order (empty
    /// for creations and deletions).
    pub changed_fields: Vec<String>,
    /// The record's texts in the live tables (a milestone's `title`, a progress update's
    /// `claim`); empty when the record no longer exists.
    pub texts: TextBundle,
    /// For a progress update: what it reports on, with that record's live texts.
    pub reports_on: Option<(ReportsOn, TextBundle)>,
}

/// The newest `limit` changes of plan milestones and progress updates, newest first. They are
/// read from the record versions, which releases keep, so `prune-changes` (which empties the
/// change feed's old events) leaves the plan's Atom feed whole.
pub fn plan_activity(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<PlanActivity>> {
    let rows = plan_release::newest_events(
        conn,
        &[MILESTONES, PROGRESS_UPDATES],
        usize::try_from(limit).unwrap_or(0),
    )?;
    let events: Vec<(String, String, i64)> = rows.iter().map(|(key, _)| key.clone()).collect();
    let mut versions = plan_release::versions_around(conn, &events)?;
    let mut releases_by_number: HashMap<i64, Release> = HashMap::new();
    for number in events.iter().map(|(_, _, n)| *n) {
        if let std::collections::hash_map::Entry::Vacant(slot) = releases_by_number.entry(number)
            && let Some(release) = releases::find(conn, PLAN, number)?
        {
            slot.insert(release);
        }
    }
    let mut activity = Vec::with_capacity(rows.len());
    for ((record_type, record_id, number), op) in rows {
        let Some(release) = releases_by_number.get(&number).cloned() else {
            continue;
        };
        let (before, after) = versions
            .remove(&(record_type.clone(), record_id.clone(), number))
            .unwrap_or_default();
        let changed_fields = match (&before, &after) {
            (Some(Value::Object(old)), Some(Value::Object(new))) => new
                .iter()
                .filter(|(name, value)| old.get(*name) != Some(*value))
                .map(|(name, _)| name.clone())
                .chain(old.keys().filter(|name| !new.contains_key(*name)).cloned())
                .collect(),
            _ => Vec::new(),
        };
        let versions = if record_type == MILESTONES {
            Versions::Milestone {
                before: parse(before)?,
                after: parse(after)?,
            }
        } else {
            Versions::ProgressUpdate {
                before: parse(before)?,
                after: parse(after)?,
            }
        };
        activity.push(PlanActivity {
            release,
            record_id,
            op,
            versions,
            changed_fields,
            texts: TextBundle::default(),
            reports_on: None,
        });
    }
    attach_texts(conn, &mut activity)?;
    Ok(activity)
}

fn parse<T: DeserializeOwned>(document: Option<Value>) -> QueryResult<Option<T>> {
    document
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// Loads the live texts of the changed records and of the records progress updates report on:
/// one query per entity type.
fn attach_texts(conn: &mut DbConn, activity: &mut [PlanActivity]) -> QueryResult<()> {
    let mut wanted: HashMap<&'static str, Vec<String>> = HashMap::new();
    for a in activity.iter_mut() {
        let entity_type = match &a.versions {
            Versions::Milestone { .. } => entity::MILESTONE,
            Versions::ProgressUpdate { before, after } => {
                if let Some(on) = after.as_ref().or(before.as_ref()).and_then(ReportsOn::of) {
                    wanted
                        .entry(on.entity_type())
                        .or_default()
                        .push(on.id().to_owned());
                    a.reports_on = Some((on, TextBundle::default()));
                }
                entity::PROGRESS_UPDATE
            }
        };
        wanted
            .entry(entity_type)
            .or_default()
            .push(a.record_id.clone());
    }
    let mut texts: HashMap<&'static str, HashMap<String, TextBundle>> = HashMap::new();
    for (entity_type, mut ids) in wanted {
        ids.sort();
        ids.dedup();
        texts.insert(entity_type, load_texts(conn, entity_type, &ids)?);
    }
    let texts_of = |entity_type: &str, id: &str| {
        texts
            .get(entity_type)
            .and_then(|by_id| by_id.get(id))
            .cloned()
            .unwrap_or_default()
    };
    for a in activity.iter_mut() {
        let entity_type = match a.versions {
            Versions::Milestone { .. } => entity::MILESTONE,
            Versions::ProgressUpdate { .. } => entity::PROGRESS_UPDATE,
        };
        a.texts = texts_of(entity_type, &a.record_id);
        if let Some((on, on_texts)) = &mut a.reports_on {
            *on_texts = texts_of(on.entity_type(), on.id());
        }
    }
    Ok(())
}

/// What the release feeds say about a registry: whether its items are sample data, and its
/// texts (`title`, `sample_note`).
#[derive(Debug, Clone)]
pub struct RegistryLabel {
    pub sample: bool,
    pub texts: TextBundle,
}

/// Releases, newest first, with the labels of the registries they belong to (keyed by slug).
#[derive(Debug, Clone)]
pub struct ReleaseFeed {
    pub releases: Vec<Release>,
    pub registries: HashMap<String, RegistryLabel>,
}

/// The newest `limit` releases of every dataset.
pub fn all_releases(conn: &mut DbConn, limit: i64) -> QueryResult<ReleaseFeed> {
    let found = releases::list(conn, None, None, limit)?;
    with_labels(conn, found)
}

/// The newest `limit` releases of one registry; `None` when there is no such registry.
pub fn registry_releases(
    conn: &mut DbConn,
    slug: &str,
    limit: i64,
) -> QueryResult<Option<ReleaseFeed>> {
    if crate::models::registries::find_row(conn, slug)?.is_none() {
        return Ok(None);
    }
    let dataset = releases::registry_dataset(slug);
    let found = releases::list(conn, Some(&dataset), None, limit)?;
    with_labels(conn, found).map(Some)
}

fn with_labels(conn: &mut DbConn, found: Vec<Release>) -> QueryResult<ReleaseFeed> {
    let mut slugs: Vec<String> = found
        .iter()
        .filter_map(|r| releases::registry_of(&r.dataset))
        .map(str::to_owned)
        .collect();
    slugs.sort();
    slugs.dedup();
    let sample: Vec<(String, bool)> = registries::table
        .filter(registries::slug.eq_any(&slugs))
        .select((registries::slug, registries::sample))
        .load(conn)?;
    let mut texts = load_texts(conn, entity::REGISTRY, &slugs)?;
    let labels = sample
        .into_iter()
        .map(|(slug, sample)| {
            let texts = texts.remove(&slug).unwrap_or_default();
            (slug, RegistryLabel { sample, texts })
        })
        .collect();
    Ok(ReleaseFeed {
        releases: found,
        registries: labels,
    })
}
