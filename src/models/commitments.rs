//! Commitments: the promises of an action plan.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{commitment_ogp_values, commitments, involvements, milestones};
use crate::models::institutions::{Involvement, SubjectKind, involvements_of_subjects};
use crate::models::lang::TextBundle;
use crate::models::milestones::{Milestone, MilestoneExpand, drain_where, of_commitments};
use crate::models::progress::{self, Assessment, Progress, ProgressUpdate, UpdatesOf};
use crate::models::provenance::{FieldProvenances, Provenance, RecordProvenance};
use crate::models::sources::Source;
use crate::models::vocab::{OgpValue, Role};
use crate::models::{Page, PageRequest, entity, keyset};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = commitments)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct CommitmentRow {
    pub id: String,
    pub action_plan_id: String,
    pub number: i32,
    pub ogp_id: Option<String>,
    pub ogp_url: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Commitment {
    pub row: CommitmentRow,
    pub texts: TextBundle,
    pub sources: Vec<Source>,
    /// Provenance of single fields (a source of their own, or the project\'s classification).
    pub fields: FieldProvenances,
    pub ogp_values: Vec<OgpValue>,
    pub progress: Progress,
    pub milestones: Option<Vec<Milestone>>,
    pub involvements: Option<Vec<Involvement>>,
    pub assessments: Option<Vec<Assessment>>,
    pub progress_updates: Option<Vec<ProgressUpdate>>,
}

#[derive(Debug, Clone, Default)]
pub struct CommitmentFilter {
    pub plan_id: Option<String>,
    pub ogp_value: Option<OgpValue>,
    /// Commitments the institution is involved in (directly or through a milestone).
    pub institution_id: Option<String>,
    /// With `institution_id`: only involvements in this role; alone: any institution in this role.
    pub role: Option<Role>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CommitmentExpand {
    pub milestones: bool,
    pub institutions: bool,
    pub assessments: bool,
    pub progress_updates: bool,
}

/// Ids of the commitments an institution (or any institution in a role) is involved in, directly
/// or through one of their milestones.
fn involved_commitment_ids(
    conn: &mut DbConn,
    filter: &CommitmentFilter,
) -> QueryResult<Vec<String>> {
    let mut direct = involvements::table
        .filter(involvements::commitment_id.is_not_null())
        .select(involvements::commitment_id.assume_not_null())
        .into_boxed();
    let mut via_milestone = involvements::table
        .inner_join(milestones::table.on(involvements::milestone_id.eq(milestones::id.nullable())))
        .select(milestones::commitment_id)
        .into_boxed();
    if let Some(institution_id) = &filter.institution_id {
        direct = direct.filter(involvements::institution_id.eq(institution_id.clone()));
        via_milestone =
            via_milestone.filter(involvements::institution_id.eq(institution_id.clone()));
    }
    if let Some(role) = filter.role {
        direct = direct.filter(involvements::role.eq(role.as_str()));
        via_milestone = via_milestone.filter(involvements::role.eq(role.as_str()));
    }
    let mut ids: Vec<String> = direct.load(conn)?;
    ids.extend(via_milestone.load::<String>(conn)?);
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn filtered(
    filter: &CommitmentFilter,
    involved: Option<&[String]>,
) -> commitments::BoxedQuery<'static, crate::db::MultiBackend> {
    let mut query = commitments::table.into_boxed();
    if let Some(plan_id) = &filter.plan_id {
        query = query.filter(commitments::action_plan_id.eq(plan_id.clone()));
    }
    if let Some(value) = filter.ogp_value {
        query = query.filter(
            commitments::id.eq_any(
                commitment_ogp_values::table
                    .filter(commitment_ogp_values::ogp_value.eq(value.as_str()))
                    .select(commitment_ogp_values::commitment_id),
            ),
        );
    }
    if let Some(ids) = involved {
        query = query.filter(commitments::id.eq_any(ids.to_vec()));
    }
    query
}

pub fn list(
    conn: &mut DbConn,
    filter: &CommitmentFilter,
    page: &PageRequest,
    expand: CommitmentExpand,
) -> QueryResult<Page<Commitment>> {
    let involved = if filter.institution_id.is_some() || filter.role.is_some() {
        Some(involved_commitment_ids(conn, filter)?)
    } else {
        None
    };
    keyset::page(
        conn,
        || filtered(filter, involved.as_deref()),
        commitments::id,
        page,
        |row: &CommitmentRow| row.id.clone(),
        |conn, rows| assemble(conn, rows, expand),
    )
}

pub fn find(
    conn: &mut DbConn,
    id: &str,
    expand: CommitmentExpand,
) -> QueryResult<Option<Commitment>> {
    keyset::find(
        conn,
        commitments::table.into_boxed(),
        commitments::id,
        id,
        |conn, rows| assemble(conn, rows, expand),
    )
}

/// All commitments of the given plans, in id order.
pub fn of_plans(
    conn: &mut DbConn,
    plan_ids: &[String],
    expand: CommitmentExpand,
) -> QueryResult<Vec<Commitment>> {
    let rows = commitments::table
        .filter(commitments::action_plan_id.eq_any(plan_ids))
        .order(commitments::id)
        .select(CommitmentRow::as_select())
        .load(conn)?;
    assemble(conn, rows, expand)
}

fn assemble(
    conn: &mut DbConn,
    rows: Vec<CommitmentRow>,
    expand: CommitmentExpand,
) -> QueryResult<Vec<Commitment>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut provenance = Provenance::load(conn, entity::COMMITMENT, &ids)?;
    let mut values: Vec<(String, String)> = commitment_ogp_values::table
        .filter(commitment_ogp_values::commitment_id.eq_any(&ids))
        .order((
            commitment_ogp_values::commitment_id,
            commitment_ogp_values::ogp_value,
        ))
        .load(conn)?;
    let rollups = progress::by_commitment(conn, &ids)?;
    let mut milestones = if expand.milestones {
        Some(of_commitments(conn, &ids, MilestoneExpand::default())?)
    } else {
        None
    };
    let mut involvements = if expand.institutions {
        Some(involvements_of_subjects(
            conn,
            SubjectKind::Commitment,
            &ids,
        )?)
    } else {
        None
    };
    let mut assessments = if expand.assessments {
        Some(progress::assessments_of_commitments(conn, &ids)?)
    } else {
        None
    };
    let mut updates = if expand.progress_updates {
        Some(progress::updates(conn, UpdatesOf::Commitments(&ids))?)
    } else {
        None
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id.clone();
            let RecordProvenance {
                texts,
                sources,
                fields,
            } = provenance.take(&id);
            let ogp_values = drain_where(&mut values, |(cid, _)| *cid == id)
                .into_iter()
                .filter_map(|(_, v)| v.parse().ok())
                .collect();
            Commitment {
                texts,
                sources,
                fields,
                ogp_values,
                progress: rollups.get(&id).copied().unwrap_or_default(),
                milestones: milestones
                    .as_mut()
                    .map(|all| drain_where(all, |m| m.row.commitment_id == id)),
                involvements: involvements.as_mut().map(|all| {
                    drain_where(all, |i| i.row.commitment_id.as_deref() == Some(id.as_str()))
                }),
                assessments: assessments.as_mut().map(|all| {
                    drain_where(all, |a| a.row.commitment_id.as_deref() == Some(id.as_str()))
                }),
                progress_updates: updates.as_mut().map(|all| {
                    drain_where(all, |u| u.row.commitment_id.as_deref() == Some(id.as_str()))
                }),
                row,
            }
        })
        .collect())
}
