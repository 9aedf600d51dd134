//! Progress: milestone rollups, dated progress updates and OGP/IRM assessments.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{assessments, commitments, milestones, progress_updates};
use crate::models::entity;
use crate::models::provenance::{WithTexts, with_texts};
use crate::models::vocab::MilestoneStatus;

/// Milestone counts by status; `unknown` counts milestones no source reports on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"milestones_total": 3, "complete": 1, "in_progress": 0, "not_started": 0, "unknown": 2}))]
pub struct Progress {
    pub milestones_total: i64,
    pub complete: i64,
    pub in_progress: i64,
    pub not_started: i64,
    pub unknown: i64,
}

impl Progress {
    fn count(&mut self, status: Option<&str>) {
        self.milestones_total += 1;
        match status.and_then(|s| s.parse::<MilestoneStatus>().ok()) {
            Some(MilestoneStatus::Complete) => self.complete += 1,
            Some(MilestoneStatus::InProgress) => self.in_progress += 1,
            Some(MilestoneStatus::NotStarted) => self.not_started += 1,
            None => self.unknown += 1,
        }
    }
}

/// Rollups per commitment for the given commitments (absent ones have no milestones).
pub fn by_commitment(
    conn: &mut DbConn,
    commitment_ids: &[String],
) -> QueryResult<HashMap<String, Progress>> {
    let rows: Vec<(String, Option<String>)> = milestones::table
        .filter(milestones::commitment_id.eq_any(commitment_ids))
        .select((milestones::commitment_id, milestones::status))
        .load(conn)?;
    let mut rollups: HashMap<String, Progress> = HashMap::new();
    for (commitment_id, status) in rows {
        rollups
            .entry(commitment_id)
            .or_default()
            .count(status.as_deref());
    }
    Ok(rollups)
}

/// Rollups per plan over all milestones of its commitments.
pub fn by_plan(conn: &mut DbConn, plan_ids: &[String]) -> QueryResult<HashMap<String, Progress>> {
    let rows: Vec<(String, Option<String>)> = milestones::table
        .inner_join(commitments::table)
        .filter(commitments::action_plan_id.eq_any(plan_ids))
        .select((commitments::action_plan_id, milestones::status))
        .load(conn)?;
    let mut rollups: HashMap<String, Progress> = HashMap::new();
    for (plan_id, status) in rows {
        rollups.entry(plan_id).or_default().count(status.as_deref());
    }
    Ok(rollups)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = progress_updates)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ProgressUpdateRow {
    pub id: String,
    pub action_plan_id: Option<String>,
    pub commitment_id: Option<String>,
    pub milestone_id: Option<String>,
    /// When the report was made.
    pub reported_on: Option<String>,
    pub metric: Option<String>,
    pub value: Option<f64>,
    /// When the reported event happened. Left out of the versioned record while unknown, so
    /// records written before the column existed compare equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred: Option<String>,
}

impl ProgressUpdateRow {
    /// The date a timeline places this update at: the event's, else the report's.
    pub fn timeline_date(&self) -> Option<&str> {
        self.occurred.as_deref().or(self.reported_on.as_deref())
    }
}

/// A progress update with its claim (texts) and sources.
pub type ProgressUpdate = WithTexts<ProgressUpdateRow>;

/// Which records' progress updates to load.
pub enum UpdatesOf<'a> {
    Plans(&'a [String]),
    Commitments(&'a [String]),
    Milestones(&'a [String]),
}

pub fn updates(conn: &mut DbConn, of: UpdatesOf<'_>) -> QueryResult<Vec<ProgressUpdate>> {
    let query = progress_updates::table.into_boxed();
    let query = match of {
        UpdatesOf::Plans(ids) => {
            query.filter(progress_updates::action_plan_id.eq_any(ids.to_vec()))
        }
        UpdatesOf::Commitments(ids) => {
            query.filter(progress_updates::commitment_id.eq_any(ids.to_vec()))
        }
        UpdatesOf::Milestones(ids) => {
            query.filter(progress_updates::milestone_id.eq_any(ids.to_vec()))
        }
    };
    let mut rows = query.select(ProgressUpdateRow::as_select()).load(conn)?;
    // Oldest event first, undated last: sorted here so both backends agree on where nulls go.
    rows.sort_by(|a, b| {
        let (da, db) = (a.timeline_date(), b.timeline_date());
        (da.is_none(), da, &a.id).cmp(&(db.is_none(), db, &b.id))
    });
    with_texts(conn, entity::PROGRESS_UPDATE, rows, |r| &r.id)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = assessments)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AssessmentRow {
    pub id: String,
    pub action_plan_id: Option<String>,
    pub commitment_id: Option<String>,
    pub kind: String,
    pub evaluator: Option<String>,
    pub published: Option<String>,
    pub url: Option<String>,
    pub verifiable: Option<bool>,
    pub relevant_to_ogp_values: Option<bool>,
    pub potential_for_results: Option<String>,
    pub completion: Option<String>,
    pub did_it_open_government: Option<String>,
}

/// An OGP/IRM assessment with its summary (texts) and sources.
pub type Assessment = WithTexts<AssessmentRow>;

pub fn assessments_of_commitments(
    conn: &mut DbConn,
    commitment_ids: &[String],
) -> QueryResult<Vec<Assessment>> {
    let rows = assessments::table
        .filter(assessments::commitment_id.eq_any(commitment_ids))
        .order(assessments::id)
        .select(AssessmentRow::as_select())
        .load(conn)?;
    with_texts(conn, entity::ASSESSMENT, rows, |r| &r.id)
}
