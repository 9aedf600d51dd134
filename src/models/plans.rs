//! Action plans, their OGP member and their co-creation facts.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{action_plans, co_creation_spaces, endorsements, members};
use crate::models::commitments::{self, Commitment, CommitmentExpand};
use crate::models::institutions::{Involvement, SubjectKind, involvements_of_subjects};
use crate::models::lang::TextBundle;
use crate::models::milestones::drain_where;
use crate::models::progress::{self, Progress, ProgressUpdate, UpdatesOf};
use crate::models::provenance::{
    FieldProvenances, Provenance, RecordProvenance, WithTexts, with_texts,
};
use crate::models::sources::Source;
use crate::models::{Page, PageRequest, entity, keyset};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = members)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct MemberRow {
    pub id: String,
    pub country: String,
    pub ogp_track: String,
    pub joined_year: Option<i32>,
    pub katottg: Option<String>,
    pub koatuu: Option<String>,
    pub ogp_url: Option<String>,
}

/// The OGP member with its texts and sources.
pub type Member = WithTexts<MemberRow>;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = action_plans)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct PlanRow {
    pub id: String,
    pub member_id: String,
    pub ogp_id: Option<String>,
    pub year_of_submission: Option<i32>,
    pub date_submitted: Option<String>,
    pub end_date: Option<String>,
    pub locally_approved_period: Option<String>,
    pub participant_groups: Option<i32>,
    pub public_meetings: Option<i32>,
    pub invitations: Option<i32>,
    pub invitations_qualifier: Option<String>,
    pub oversight_body_status: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = co_creation_spaces)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SpaceRow {
    pub id: String,
    pub action_plan_id: String,
    pub seq: i32,
    pub channel: Option<String>,
    pub institution_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = endorsements)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct EndorsementRow {
    pub id: String,
    pub action_plan_id: String,
    pub seq: i32,
    pub endorser: String,
    pub institution_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub row: PlanRow,
    pub texts: TextBundle,
    pub sources: Vec<Source>,
    /// Provenance of single fields (a source of their own, or the project\'s classification).
    pub fields: FieldProvenances,
    pub member: Option<Member>,
    pub progress: Progress,
    pub spaces: Vec<WithTexts<SpaceRow>>,
    pub endorsements: Vec<WithTexts<EndorsementRow>>,
    pub commitments: Option<Vec<Commitment>>,
    pub involvements: Option<Vec<Involvement>>,
    pub progress_updates: Option<Vec<ProgressUpdate>>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    pub member_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PlanExpand {
    pub commitments: bool,
    pub institutions: bool,
    pub progress_updates: bool,
}

fn filtered(filter: &PlanFilter) -> action_plans::BoxedQuery<'static, crate::db::MultiBackend> {
    let mut query = action_plans::table.into_boxed();
    if let Some(member_id) = &filter.member_id {
        query = query.filter(action_plans::member_id.eq(member_id.clone()));
    }
    query
}

pub fn list(
    conn: &mut DbConn,
    filter: &PlanFilter,
    page: &PageRequest,
    expand: PlanExpand,
) -> QueryResult<Page<Plan>> {
    keyset::page(
        conn,
        || filtered(filter),
        action_plans::id,
        page,
        |row: &PlanRow| row.id.clone(),
        |conn, rows| assemble(conn, rows, expand),
    )
}

pub fn find(conn: &mut DbConn, id: &str, expand: PlanExpand) -> QueryResult<Option<Plan>> {
    keyset::find(
        conn,
        action_plans::table.into_boxed(),
        action_plans::id,
        id,
        |conn, rows| assemble(conn, rows, expand),
    )
}

fn assemble(conn: &mut DbConn, rows: Vec<PlanRow>, expand: PlanExpand) -> QueryResult<Vec<Plan>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut provenance = Provenance::load(conn, entity::ACTION_PLAN, &ids)?;

    let member_ids: Vec<String> = rows.iter().map(|r| r.member_id.clone()).collect();
    let member_rows: Vec<MemberRow> = members::table
        .filter(members::id.eq_any(&member_ids))
        .select(MemberRow::as_select())
        .load(conn)?;
    let members = with_texts(conn, entity::MEMBER, member_rows, |r| &r.id)?;

    let space_rows: Vec<SpaceRow> = co_creation_spaces::table
        .filter(co_creation_spaces::action_plan_id.eq_any(&ids))
        .order((co_creation_spaces::action_plan_id, co_creation_spaces::seq))
        .select(SpaceRow::as_select())
        .load(conn)?;
    let mut spaces = with_texts(conn, entity::SPACE, space_rows, |r| &r.id)?;
    let endorsement_rows: Vec<EndorsementRow> = endorsements::table
        .filter(endorsements::action_plan_id.eq_any(&ids))
        .order((endorsements::action_plan_id, endorsements::seq))
        .select(EndorsementRow::as_select())
        .load(conn)?;
    let mut endorsements = with_texts(conn, entity::ENDORSEMENT, endorsement_rows, |r| &r.id)?;

    let rollups = progress::by_plan(conn, &ids)?;
    let mut commitments = if expand.commitments {
        Some(commitments::of_plans(
            conn,
            &ids,
            CommitmentExpand::default(),
        )?)
    } else {
        None
    };
    let mut involvements = if expand.institutions {
        Some(involvements_of_subjects(conn, SubjectKind::Plan, &ids)?)
    } else {
        None
    };
    let mut updates = if expand.progress_updates {
        Some(progress::updates(conn, UpdatesOf::Plans(&ids))?)
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
            Plan {
                texts,
                sources,
                fields,
                member: members.iter().find(|m| m.row.id == row.member_id).cloned(),
                progress: rollups.get(&id).copied().unwrap_or_default(),
                spaces: drain_where(&mut spaces, |s| s.row.action_plan_id == id),
                endorsements: drain_where(&mut endorsements, |e| e.row.action_plan_id == id),
                commitments: commitments
                    .as_mut()
                    .map(|all| drain_where(all, |c| c.row.action_plan_id == id)),
                involvements: involvements.as_mut().map(|all| {
                    drain_where(all, |i| {
                        i.row.action_plan_id.as_deref() == Some(id.as_str())
                    })
                }),
                progress_updates: updates.as_mut().map(|all| {
                    drain_where(all, |u| {
                        u.row.action_plan_id.as_deref() == Some(id.as_str())
                    })
                }),
                row,
            }
        })
        .collect())
}
