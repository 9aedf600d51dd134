//! Milestones: the verifiable steps of a commitment.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{commitments, involvements, milestones, sources};
use crate::models::institutions::{Involvement, SubjectKind, involvements_of_subjects};
use crate::models::lang::TextBundle;
use crate::models::progress::{ProgressUpdate, UpdatesOf, updates};
use crate::models::provenance::{FieldProvenances, Provenance, RecordProvenance};
use crate::models::sources::Source;
use crate::models::vocab::MilestoneStatus;
use crate::models::{Page, PageRequest, entity, keyset};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = milestones)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct MilestoneRow {
    pub id: String,
    pub commitment_id: String,
    pub seq: i32,
    pub status: Option<String>,
    pub status_source_id: Option<String>,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    pub due_earliest: Option<String>,
    pub due_latest: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Milestone {
    pub row: MilestoneRow,
    pub texts: TextBundle,
    pub sources: Vec<Source>,
    /// Provenance of single fields (a source of their own, or the project\'s classification).
    pub fields: FieldProvenances,
    /// The source that reports the status, when a status is known.
    pub status_source: Option<Source>,
    pub involvements: Option<Vec<Involvement>>,
    pub progress_updates: Option<Vec<ProgressUpdate>>,
}

/// Status filter: a known status, or `Unknown` for milestones no source reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Is(MilestoneStatus),
    Unknown,
}

#[derive(Debug, Clone, Default)]
pub struct MilestoneFilter {
    pub plan_id: Option<String>,
    pub commitment_id: Option<String>,
    /// Milestones the institution is involved in, directly or through the milestone's commitment.
    pub institution_id: Option<String>,
    pub status: Option<StatusFilter>,
    /// Due on or after this day (a partial due date matches when any day of it does).
    pub due_from: Option<NaiveDate>,
    /// Due on or before this day.
    pub due_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct MilestoneExpand {
    pub institutions: bool,
    pub progress_updates: bool,
}

fn filtered(filter: &MilestoneFilter) -> milestones::BoxedQuery<'static, crate::db::MultiBackend> {
    let mut query = milestones::table.into_boxed();
    if let Some(plan_id) = &filter.plan_id {
        query = query.filter(
            milestones::commitment_id.eq_any(
                commitments::table
                    .filter(commitments::action_plan_id.eq(plan_id.clone()))
                    .select(commitments::id),
            ),
        );
    }
    if let Some(commitment_id) = &filter.commitment_id {
        query = query.filter(milestones::commitment_id.eq(commitment_id.clone()));
    }
    if let Some(institution_id) = &filter.institution_id {
        let direct = involvements::table
            .filter(involvements::institution_id.eq(institution_id.clone()))
            .filter(involvements::milestone_id.is_not_null())
            .select(involvements::milestone_id.assume_not_null());
        let via_commitment = involvements::table
            .filter(involvements::institution_id.eq(institution_id.clone()))
            .filter(involvements::commitment_id.is_not_null())
            .select(involvements::commitment_id.assume_not_null());
        query = query.filter(
            milestones::id
                .eq_any(direct)
                .or(milestones::commitment_id.eq_any(via_commitment)),
        );
    }
    match filter.status {
        Some(StatusFilter::Is(status)) => {
            query = query.filter(milestones::status.eq(status.as_str()))
        }
        Some(StatusFilter::Unknown) => query = query.filter(milestones::status.is_null()),
        None => {}
    }
    // ISO dates compare correctly as text on both backends.
    if let Some(from) = filter.due_from {
        query = query.filter(milestones::due_latest.ge(from.to_string()));
    }
    if let Some(to) = filter.due_to {
        query = query.filter(milestones::due_earliest.le(to.to_string()));
    }
    query
}

pub fn list(
    conn: &mut DbConn,
    filter: &MilestoneFilter,
    page: &PageRequest,
    expand: MilestoneExpand,
) -> QueryResult<Page<Milestone>> {
    keyset::page(
        conn,
        || filtered(filter),
        milestones::id,
        page,
        |row: &MilestoneRow| row.id.clone(),
        |conn, rows| assemble(conn, rows, expand),
    )
}

pub fn find(
    conn: &mut DbConn,
    id: &str,
    expand: MilestoneExpand,
) -> QueryResult<Option<Milestone>> {
    keyset::find(
        conn,
        milestones::table.into_boxed(),
        milestones::id,
        id,
        |conn, rows| assemble(conn, rows, expand),
    )
}

/// All milestones of the given commitments, in id order.
pub fn of_commitments(
    conn: &mut DbConn,
    commitment_ids: &[String],
    expand: MilestoneExpand,
) -> QueryResult<Vec<Milestone>> {
    let rows = milestones::table
        .filter(milestones::commitment_id.eq_any(commitment_ids))
        .order(milestones::id)
        .select(MilestoneRow::as_select())
        .load(conn)?;
    assemble(conn, rows, expand)
}

fn assemble(
    conn: &mut DbConn,
    rows: Vec<MilestoneRow>,
    expand: MilestoneExpand,
) -> QueryResult<Vec<Milestone>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut provenance = Provenance::load(conn, entity::MILESTONE, &ids)?;
    let status_source_ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.status_source_id.clone())
        .collect();
    let status_sources: Vec<Source> = sources::table
        .filter(sources::id.eq_any(&status_source_ids))
        .select(Source::as_select())
        .load(conn)?;
    let mut involvements = if expand.institutions {
        Some(involvements_of_subjects(
            conn,
            SubjectKind::Milestone,
            &ids,
        )?)
    } else {
        None
    };
    let mut progress_updates = if expand.progress_updates {
        Some(updates(conn, UpdatesOf::Milestones(&ids))?)
    } else {
        None
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let RecordProvenance {
                texts,
                sources,
                fields,
            } = provenance.take(&row.id);
            let id = row.id.clone();
            Milestone {
                status_source: row
                    .status_source_id
                    .as_ref()
                    .and_then(|sid| status_sources.iter().find(|s| &s.id == sid).cloned()),
                involvements: involvements.as_mut().map(|all| {
                    drain_where(all, |i| i.row.milestone_id.as_deref() == Some(id.as_str()))
                }),
                progress_updates: progress_updates.as_mut().map(|all| {
                    drain_where(all, |u| u.row.milestone_id.as_deref() == Some(id.as_str()))
                }),
                row,
                texts,
                sources,
                fields,
            }
        })
        .collect())
}

/// Removes and returns the elements matching `pred`, keeping order on both sides.
pub(crate) fn drain_where<T>(all: &mut Vec<T>, pred: impl Fn(&T) -> bool) -> Vec<T> {
    let (matching, rest): (Vec<T>, Vec<T>) = std::mem::take(all).into_iter().partition(|x| pred(x));
    *all = rest;
    matching
}
