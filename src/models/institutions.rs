//! Institutions and their involvements in plans, commitments and milestones.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{institutions, involvements, milestones};
use crate::models::lang::TextBundle;
use crate::models::milestones::drain_where;
use crate::models::provenance::{FieldProvenances, Provenance, RecordProvenance};
use crate::models::sources::Source;
use crate::models::vocab::{InstitutionKind, Role};
use crate::models::{Page, PageRequest, entity, keyset};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = institutions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct InstitutionRow {
    pub id: String,
    pub kind: String,
    pub parent_id: Option<String>,
    pub homepage: Option<String>,
    pub edrpou: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Institution {
    pub row: InstitutionRow,
    pub texts: TextBundle,
    pub sources: Vec<Source>,
    /// Provenance of single fields (a source of their own, or the project\'s classification).
    pub fields: FieldProvenances,
    /// Present when asked for (`expand=involvements`).
    pub involvements: Option<Vec<Involvement>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = involvements)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct InvolvementRow {
    pub id: String,
    pub institution_id: String,
    pub action_plan_id: Option<String>,
    pub commitment_id: Option<String>,
    pub milestone_id: Option<String>,
    pub role: String,
    pub source_label: Option<String>,
}

/// What an involvement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Plan(String),
    Commitment(String),
    Milestone(String),
}

impl InvolvementRow {
    pub fn subject(&self) -> Option<Subject> {
        match (
            &self.action_plan_id,
            &self.commitment_id,
            &self.milestone_id,
        ) {
            (Some(id), None, None) => Some(Subject::Plan(id.clone())),
            (None, Some(id), None) => Some(Subject::Commitment(id.clone())),
            (None, None, Some(id)) => Some(Subject::Milestone(id.clone())),
            _ => None,
        }
    }
}

/// An involvement with the institution's kind and texts, ready to embed in either direction.
#[derive(Debug, Clone)]
pub struct Involvement {
    pub row: InvolvementRow,
    pub institution_kind: String,
    pub institution_texts: TextBundle,
    /// Field provenance of the institution (its `kind` is shown with the involvement).
    pub institution_fields: FieldProvenances,
    pub sources: Vec<Source>,
    pub fields: FieldProvenances,
}

#[derive(Debug, Clone, Default)]
pub struct InstitutionFilter {
    pub kind: Option<InstitutionKind>,
    /// Institutions with an involvement in this role (in the given plan or commitment, if any).
    pub role: Option<Role>,
    /// Institutions involved in this plan (directly).
    pub plan_id: Option<String>,
    /// Institutions involved in this commitment or one of its milestones.
    pub commitment_id: Option<String>,
}

/// Ids of the institutions whose involvements match the filter's plan / commitment / role
/// together (a role applies to the same involvement as the plan or commitment); `None` when the
/// filter says nothing about involvements.
fn involved_ids(conn: &mut DbConn, filter: &InstitutionFilter) -> QueryResult<Option<Vec<String>>> {
    if filter.plan_id.is_none() && filter.commitment_id.is_none() && filter.role.is_none() {
        return Ok(None);
    }
    let mut query = involvements::table
        .select(involvements::institution_id)
        .into_boxed();
    if let Some(role) = filter.role {
        query = query.filter(involvements::role.eq(role.as_str()));
    }
    if let Some(plan_id) = &filter.plan_id {
        query = query.filter(involvements::action_plan_id.eq(plan_id.clone()));
    }
    if let Some(commitment_id) = &filter.commitment_id {
        let milestone_ids: Vec<String> = milestones::table
            .filter(milestones::commitment_id.eq(commitment_id.clone()))
            .select(milestones::id)
            .load(conn)?;
        query = query.filter(
            involvements::commitment_id
                .eq(commitment_id.clone())
                .or(involvements::milestone_id.eq_any(milestone_ids)),
        );
    }
    let mut ids: Vec<String> = query.load(conn)?;
    ids.sort();
    ids.dedup();
    Ok(Some(ids))
}

fn filtered(
    filter: &InstitutionFilter,
    involved: Option<&[String]>,
) -> institutions::BoxedQuery<'static, crate::db::MultiBackend> {
    let mut query = institutions::table.into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(institutions::kind.eq(kind.as_str()));
    }
    if let Some(ids) = involved {
        query = query.filter(institutions::id.eq_any(ids.to_vec()));
    }
    query
}

pub fn list(
    conn: &mut DbConn,
    filter: &InstitutionFilter,
    page: &PageRequest,
    with_involvements: bool,
) -> QueryResult<Page<Institution>> {
    let involved = involved_ids(conn, filter)?;
    keyset::page(
        conn,
        || filtered(filter, involved.as_deref()),
        institutions::id,
        page,
        |row: &InstitutionRow| row.id.clone(),
        |conn, rows| assemble(conn, rows, with_involvements),
    )
}

pub fn find(
    conn: &mut DbConn,
    id: &str,
    with_involvements: bool,
) -> QueryResult<Option<Institution>> {
    keyset::find(
        conn,
        institutions::table.into_boxed(),
        institutions::id,
        id,
        |conn, rows| assemble(conn, rows, with_involvements),
    )
}

fn assemble(
    conn: &mut DbConn,
    rows: Vec<InstitutionRow>,
    with_involvements: bool,
) -> QueryResult<Vec<Institution>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut provenance = Provenance::load(conn, entity::INSTITUTION, &ids)?;
    let mut involvements = if with_involvements {
        Some(involvements_of_institutions(conn, &ids)?)
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
            let involvements = involvements
                .as_mut()
                .map(|all| drain_where(all, |i| i.row.institution_id == row.id));
            Institution {
                row,
                texts,
                sources,
                fields,
                involvements,
            }
        })
        .collect())
}

/// Which subject column to match involvements on.
pub enum SubjectKind {
    Plan,
    Commitment,
    Milestone,
}

/// Involvements whose subject is one of `subject_ids`, with institution names, ordered by id.
pub fn involvements_of_subjects(
    conn: &mut DbConn,
    kind: SubjectKind,
    subject_ids: &[String],
) -> QueryResult<Vec<Involvement>> {
    let query = involvements::table.into_boxed();
    let query = match kind {
        SubjectKind::Plan => {
            query.filter(involvements::action_plan_id.eq_any(subject_ids.to_vec()))
        }
        SubjectKind::Commitment => {
            query.filter(involvements::commitment_id.eq_any(subject_ids.to_vec()))
        }
        SubjectKind::Milestone => {
            query.filter(involvements::milestone_id.eq_any(subject_ids.to_vec()))
        }
    };
    let rows = query
        .order(involvements::id)
        .select(InvolvementRow::as_select())
        .load(conn)?;
    with_institutions(conn, rows)
}

fn involvements_of_institutions(
    conn: &mut DbConn,
    institution_ids: &[String],
) -> QueryResult<Vec<Involvement>> {
    let rows = involvements::table
        .filter(involvements::institution_id.eq_any(institution_ids))
        .order(involvements::id)
        .select(InvolvementRow::as_select())
        .load(conn)?;
    with_institutions(conn, rows)
}

fn with_institutions(
    conn: &mut DbConn,
    rows: Vec<InvolvementRow>,
) -> QueryResult<Vec<Involvement>> {
    let institution_ids: Vec<String> = rows.iter().map(|r| r.institution_id.clone()).collect();
    let kinds: std::collections::HashMap<String, String> = institutions::table
        .filter(institutions::id.eq_any(&institution_ids))
        .select((institutions::id, institutions::kind))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let names = crate::models::provenance::load_texts(conn, entity::INSTITUTION, &institution_ids)?;
    let institution_fields =
        crate::models::provenance::load_fields(conn, entity::INSTITUTION, &institution_ids)?;
    let involvement_ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut provenance = Provenance::load(conn, entity::INVOLVEMENT, &involvement_ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let own = provenance.take(&row.id);
            Involvement {
                institution_kind: kinds.get(&row.institution_id).cloned().unwrap_or_default(),
                institution_texts: names.get(&row.institution_id).cloned().unwrap_or_default(),
                institution_fields: institution_fields
                    .get(&row.institution_id)
                    .cloned()
                    .unwrap_or_default(),
                sources: own.sources,
                fields: own.fields,
                row,
            }
        })
        .collect())
}
