//! Plan releases. The plan's data (sources, institutions, plans, commitments, milestones, their
//! links, texts and record sources) is versioned row by row: every row is a record
//! `(table, key) → JSON document` in `plan_record_versions`, valid from the release that wrote it
//! until the release that changed or removed it. Publishing compares the live tables with the
//! open versions and writes only the differences, with one change event each; any release can be
//! rebuilt from its records into a scratch database that answers the very same queries.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::db::schema::*;
use crate::models::commitments::CommitmentRow;
use crate::models::fixtures::{PLAN_ENTITIES, PlanFixtures};
use crate::models::institutions::{InstitutionRow, InvolvementRow};
use crate::models::lang::{StoredText, Wording};
use crate::models::milestones::MilestoneRow;
use crate::models::plans::{EndorsementRow, MemberRow, PlanRow, SpaceRow};
use crate::models::progress::{AssessmentRow, ProgressUpdateRow};
use crate::models::provenance::{FieldProvenanceRow, TextRow};
use crate::models::registries::hex;
use crate::models::releases::{self, Op, PLAN, Release};
use crate::models::sources::Source;

/// One versioned plan row: its table, its key (primary-key values joined by `/`) and the row as
/// a JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PlanRecord {
    /// The table: `sources`, `institutions`, `action_plans`, `commitments`, `milestones`, …
    pub record_type: String,
    pub record_id: String,
    #[schema(value_type = Object)]
    pub document: Value,
}

type Key = (String, String);

fn put<T: Serialize>(out: &mut BTreeMap<Key, Value>, table: &str, id: String, row: &T) {
    out.insert(
        (table.to_owned(), id),
        serde_json::to_value(row).unwrap_or(Value::Null),
    );
}

/// Every row of the plan, keyed by (table, key).
fn records_of(fx: &PlanFixtures) -> BTreeMap<Key, Value> {
    let mut out = BTreeMap::new();
    for r in &fx.sources {
        put(&mut out, "sources", r.id.clone(), r);
    }
    for r in &fx.members {
        put(&mut out, "members", r.id.clone(), r);
    }
    for r in &fx.institutions {
        put(&mut out, "institutions", r.id.clone(), r);
    }
    for r in &fx.plans {
        put(&mut out, "action_plans", r.id.clone(), r);
    }
    for r in &fx.spaces {
        put(&mut out, "co_creation_spaces", r.id.clone(), r);
    }
    for r in &fx.endorsements {
        put(&mut out, "endorsements", r.id.clone(), r);
    }
    for r in &fx.commitments {
        put(&mut out, "commitments", r.id.clone(), r);
    }
    for (commitment_id, value) in &fx.ogp_values {
        let doc = json!({"commitment_id": commitment_id, "ogp_value": value});
        put(
            &mut out,
            "commitment_ogp_values",
            format!("{commitment_id}/{value}"),
            &doc,
        );
    }
    for r in &fx.milestones {
        put(&mut out, "milestones", r.id.clone(), r);
    }
    for r in &fx.involvements {
        put(&mut out, "involvements", r.id.clone(), r);
    }
    for r in &fx.assessments {
        put(&mut out, "assessments", r.id.clone(), r);
    }
    for r in &fx.progress_updates {
        put(&mut out, "progress_updates", r.id.clone(), r);
    }
    for (entity_type, entity_id, source_id) in &fx.record_sources {
        let doc =
            json!({"entity_type": entity_type, "entity_id": entity_id, "source_id": source_id});
        put(
            &mut out,
            "record_sources",
            format!("{entity_type}/{entity_id}/{source_id}"),
            &doc,
        );
    }
    for t in &fx.texts {
        let mut doc = json!({"entity_type": t.entity_type, "entity_id": t.entity_id,
            "field": t.field, "lang": t.lang, "value": t.text.value, "source_id": t.text.source});
        // Only a text that is not its source's own words says so, so records written before
        // texts had a wording kind compare equal.
        if t.text.wording != Wording::Source {
            doc["wording"] = json!(t.text.wording.as_str());
        }
        put(
            &mut out,
            "localized_texts",
            format!("{}/{}/{}/{}", t.entity_type, t.entity_id, t.field, t.lang),
            &doc,
        );
    }
    for f in &fx.field_provenance {
        put(
            &mut out,
            "field_provenance",
            format!("{}/{}/{}", f.entity_type, f.entity_id, f.field),
            f,
        );
    }
    out
}

fn field(doc: &Value, name: &str) -> String {
    doc.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The plan rows back from their records (the inverse of `records_of`).
fn fixtures_of(records: &[PlanRecord]) -> Result<PlanFixtures, serde_json::Error> {
    let mut fx = PlanFixtures::default();
    for r in records {
        let d = r.document.clone();
        match r.record_type.as_str() {
            "sources" => fx.sources.push(serde_json::from_value(d)?),
            "members" => fx.members.push(serde_json::from_value(d)?),
            "institutions" => fx.institutions.push(serde_json::from_value(d)?),
            "action_plans" => fx.plans.push(serde_json::from_value(d)?),
            "co_creation_spaces" => fx.spaces.push(serde_json::from_value(d)?),
            "endorsements" => fx.endorsements.push(serde_json::from_value(d)?),
            "commitments" => fx.commitments.push(serde_json::from_value(d)?),
            "commitment_ogp_values" => fx
                .ogp_values
                .push((field(&d, "commitment_id"), field(&d, "ogp_value"))),
            "milestones" => fx.milestones.push(serde_json::from_value(d)?),
            "involvements" => fx.involvements.push(serde_json::from_value(d)?),
            "assessments" => fx.assessments.push(serde_json::from_value(d)?),
            "progress_updates" => fx.progress_updates.push(serde_json::from_value(d)?),
            "record_sources" => fx.record_sources.push((
                field(&d, "entity_type"),
                field(&d, "entity_id"),
                field(&d, "source_id"),
            )),
            "localized_texts" => fx.texts.push(TextRow {
                entity_type: field(&d, "entity_type"),
                entity_id: field(&d, "entity_id"),
                field: field(&d, "field"),
                lang: field(&d, "lang"),
                text: StoredText {
                    value: field(&d, "value"),
                    source: Some(field(&d, "source_id")).filter(|s| !s.is_empty()),
                    wording: field(&d, "wording").parse().unwrap_or_default(),
                },
            }),
            "field_provenance" => fx.field_provenance.push(serde_json::from_value(d)?),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "unknown plan record type {other:?}"
                )));
            }
        }
    }
    Ok(fx)
}

/// The plan as it is in the live tables.
fn live(conn: &mut DbConn) -> QueryResult<PlanFixtures> {
    type Text = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
    );
    let texts: Vec<Text> = localized_texts::table
        .filter(localized_texts::entity_type.eq_any(PLAN_ENTITIES))
        .select((
            localized_texts::entity_type,
            localized_texts::entity_id,
            localized_texts::field,
            localized_texts::lang,
            localized_texts::value,
            localized_texts::source_id,
            localized_texts::wording,
        ))
        .load(conn)?;
    Ok(PlanFixtures {
        sources: sources::table.select(Source::as_select()).load(conn)?,
        members: members::table.select(MemberRow::as_select()).load(conn)?,
        institutions: institutions::table
            .select(InstitutionRow::as_select())
            .load(conn)?,
        plans: action_plans::table
            .select(PlanRow::as_select())
            .load(conn)?,
        spaces: co_creation_spaces::table
            .select(SpaceRow::as_select())
            .load(conn)?,
        endorsements: endorsements::table
            .select(EndorsementRow::as_select())
            .load(conn)?,
        commitments: commitments::table
            .select(CommitmentRow::as_select())
            .load(conn)?,
        ogp_values: commitment_ogp_values::table
            .select((
                commitment_ogp_values::commitment_id,
                commitment_ogp_values::ogp_value,
            ))
            .load(conn)?,
        milestones: milestones::table
            .select(MilestoneRow::as_select())
            .load(conn)?,
        involvements: involvements::table
            .select(InvolvementRow::as_select())
            .load(conn)?,
        assessments: assessments::table
            .select(AssessmentRow::as_select())
            .load(conn)?,
        progress_updates: progress_updates::table
            .select(ProgressUpdateRow::as_select())
            .load(conn)?,
        record_sources: record_sources::table
            .filter(record_sources::entity_type.eq_any(PLAN_ENTITIES))
            .select((
                record_sources::entity_type,
                record_sources::entity_id,
                record_sources::source_id,
            ))
            .load(conn)?,
        texts: texts
            .into_iter()
            .map(
                |(entity_type, entity_id, field, lang, value, source, wording)| TextRow {
                    entity_type,
                    entity_id,
                    field,
                    lang,
                    text: StoredText {
                        value,
                        source,
                        wording: wording.parse().unwrap_or_default(),
                    },
                },
            )
            .collect(),
        field_provenance: field_provenance::table
            .filter(field_provenance::entity_type.eq_any(PLAN_ENTITIES))
            .select(FieldProvenanceRow::as_select())
            .load(conn)?,
    })
}

/// Publishes the live plan tables as the next plan release if they differ from the latest one
/// (inside the caller's transaction). Returns the new release, or `None` when nothing changed.
pub fn publish(conn: &mut DbConn, origin: &str) -> QueryResult<Option<Release>> {
    let now = records_of(&live(conn)?);
    let open: Vec<(String, String, String)> = plan_record_versions::table
        .filter(plan_record_versions::valid_to.is_null())
        .select((
            plan_record_versions::record_type,
            plan_record_versions::record_id,
            plan_record_versions::document,
        ))
        .load(conn)?;
    let before: BTreeMap<Key, Value> = open
        .into_iter()
        .map(|(t, i, d)| ((t, i), serde_json::from_str(&d).unwrap_or(Value::Null)))
        .collect();
    let mut events: Vec<(&Key, Op)> = Vec::new();
    for (key, doc) in &now {
        match before.get(key) {
            None => events.push((key, Op::Created)),
            Some(old) if old != doc => events.push((key, Op::Updated)),
            Some(_) => {}
        }
    }
    for key in before.keys().filter(|k| !now.contains_key(*k)) {
        events.push((key, Op::Deleted));
    }
    if events.is_empty() {
        return Ok(None);
    }
    events.sort_by(|a, b| a.0.cmp(b.0));
    let draft = releases::open(conn, PLAN, origin)?;
    for ((record_type, record_id), op) in &events {
        if *op != Op::Created {
            diesel::update(
                plan_record_versions::table
                    .filter(plan_record_versions::record_type.eq(record_type))
                    .filter(plan_record_versions::record_id.eq(record_id))
                    .filter(plan_record_versions::valid_to.is_null()),
            )
            .set(plan_record_versions::valid_to.eq(draft.number))
            .execute(conn)?;
        }
        if *op != Op::Deleted {
            let doc = &now[&(record_type.clone(), record_id.clone())];
            diesel::insert_into(plan_record_versions::table)
                .values((
                    plan_record_versions::record_type.eq(record_type),
                    plan_record_versions::record_id.eq(record_id),
                    plan_record_versions::valid_from.eq(draft.number),
                    plan_record_versions::document.eq(doc.to_string()),
                ))
                .execute(conn)?;
        }
        releases::record_change(conn, &draft, record_type, record_id, *op)?;
    }
    let records: Vec<PlanRecord> = now
        .into_iter()
        .map(|((record_type, record_id), document)| PlanRecord {
            record_type,
            record_id,
            document,
        })
        .collect();
    let release = releases::finish(conn, &draft, records.len() as i64, &export_digest(&records))?;
    Ok(Some(release))
}

/// One canonical NDJSON line per record, in (type, id) order: what a release's checksum covers
/// and what `/api/v1/plan/releases/{n}/records` serves.
pub fn canonical_lines(records: &[PlanRecord]) -> String {
    let mut out = String::new();
    for r in records {
        out.push_str(&serde_json::to_string(r).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn export_digest(records: &[PlanRecord]) -> releases::ExportDigest {
    let lines = canonical_lines(records);
    releases::ExportDigest {
        sha256: hex(&Sha256::digest(lines.as_bytes())),
        byte_size: lines.len() as i64,
    }
}

/// Every record of plan release `number`, in (type, id) order.
pub fn records_at(conn: &mut DbConn, number: i64) -> QueryResult<Vec<PlanRecord>> {
    let rows: Vec<(String, String, String)> = plan_record_versions::table
        .filter(plan_record_versions::valid_from.le(number))
        .filter(
            plan_record_versions::valid_to
                .is_null()
                .or(plan_record_versions::valid_to.gt(number)),
        )
        .order((
            plan_record_versions::record_type,
            plan_record_versions::record_id,
        ))
        .select((
            plan_record_versions::record_type,
            plan_record_versions::record_id,
            plan_record_versions::document,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(record_type, record_id, document)| PlanRecord {
            record_type,
            record_id,
            document: serde_json::from_str(&document).unwrap_or(Value::Null),
        })
        .collect())
}

/// Documents of these (type, id) records as written by release `number` (for change events).
pub fn documents_written_by(
    conn: &mut DbConn,
    number: i64,
    keys: &[(String, String)],
) -> QueryResult<BTreeMap<Key, Value>> {
    let mut out = BTreeMap::new();
    for (record_type, record_id) in keys {
        let doc: Option<String> = plan_record_versions::table
            .filter(plan_record_versions::record_type.eq(record_type))
            .filter(plan_record_versions::record_id.eq(record_id))
            .filter(plan_record_versions::valid_from.eq(number))
            .select(plan_record_versions::document)
            .first(conn)
            .optional()?;
        if let Some(doc) = doc {
            out.insert(
                (record_type.clone(), record_id.clone()),
                serde_json::from_str(&doc).unwrap_or(Value::Null),
            );
        }
    }
    Ok(out)
}

/// A change event's record and release: `(type, id, release number)`.
pub type EventKey = (String, String, i64);

/// The newest `limit` changes of records of the given types, newest release first, read from
/// the record versions themselves (which every release keeps), so pruning the change feed never
/// shortens what is read here: a version that starts at release n is a creation or an update,
/// one that ends at n with no successor is a deletion.
pub fn newest_events(
    conn: &mut DbConn,
    record_types: &[&str],
    limit: usize,
) -> QueryResult<Vec<(EventKey, Op)>> {
    let rows: Vec<(String, String, i64, Option<i64>)> = plan_record_versions::table
        .filter(plan_record_versions::record_type.eq_any(record_types))
        .select((
            plan_record_versions::record_type,
            plan_record_versions::record_id,
            plan_record_versions::valid_from,
            plan_record_versions::valid_to,
        ))
        .load(conn)?;
    let starts: std::collections::HashSet<(&str, &str, i64)> = rows
        .iter()
        .map(|(t, id, from, _)| (t.as_str(), id.as_str(), *from))
        .collect();
    let ends: std::collections::HashSet<(&str, &str, i64)> = rows
        .iter()
        .filter_map(|(t, id, _, to)| to.map(|to| (t.as_str(), id.as_str(), to)))
        .collect();
    let mut events: Vec<(EventKey, Op)> = Vec::new();
    for (t, id, from, to) in &rows {
        let op = if ends.contains(&(t.as_str(), id.as_str(), *from)) {
            Op::Updated
        } else {
            Op::Created
        };
        events.push(((t.clone(), id.clone(), *from), op));
        if let Some(to) = to
            && !starts.contains(&(t.as_str(), id.as_str(), *to))
        {
            events.push(((t.clone(), id.clone(), *to), Op::Deleted));
        }
    }
    events.sort_by(|(a, _), (b, _)| {
        b.2.cmp(&a.2)
            .then_with(|| a.0.cmp(&b.0))
            .then_with(|| a.1.cmp(&b.1))
    });
    events.truncate(limit);
    Ok(events)
}

/// A record's document before a release and the one the release wrote.
pub type VersionPair = (Option<Value>, Option<Value>);

/// The two versions around each event `(type, id, release number)`: the document the record had
/// just before that release (the version it closed; `None` for a creation) and the one it wrote
/// (`None` for a deletion). One query for all the events.
pub fn versions_around(
    conn: &mut DbConn,
    events: &[EventKey],
) -> QueryResult<BTreeMap<EventKey, VersionPair>> {
    let types: Vec<&str> = events.iter().map(|(t, _, _)| t.as_str()).collect();
    let ids: Vec<&str> = events.iter().map(|(_, i, _)| i.as_str()).collect();
    let numbers: Vec<i64> = events.iter().map(|(_, _, n)| *n).collect();
    // A superset (any listed type × id × number); the exact pairs are picked below.
    let rows: Vec<(String, String, i64, Option<i64>, String)> = plan_record_versions::table
        .filter(plan_record_versions::record_type.eq_any(types))
        .filter(plan_record_versions::record_id.eq_any(ids))
        .filter(
            plan_record_versions::valid_from
                .eq_any(numbers.clone())
                .or(plan_record_versions::valid_to.eq_any(numbers)),
        )
        .select((
            plan_record_versions::record_type,
            plan_record_versions::record_id,
            plan_record_versions::valid_from,
            plan_record_versions::valid_to,
            plan_record_versions::document,
        ))
        .load(conn)?;
    let mut out: BTreeMap<EventKey, VersionPair> = events
        .iter()
        .map(|event| (event.clone(), (None, None)))
        .collect();
    for (record_type, record_id, from, to, document) in rows {
        let doc = || serde_json::from_str(&document).unwrap_or(Value::Null);
        if let Some(to) = to
            && let Some(slot) = out.get_mut(&(record_type.clone(), record_id.clone(), to))
        {
            slot.0 = Some(doc());
        }
        if let Some(slot) = out.get_mut(&(record_type, record_id, from)) {
            slot.1 = Some(doc());
        }
    }
    Ok(out)
}

/// Writes plan release `number` into `scratch` (a freshly migrated, empty database).
pub fn restore(conn: &mut DbConn, number: i64, scratch: &mut DbConn) -> Result<(), String> {
    let records = records_at(conn, number).map_err(|e| e.to_string())?;
    let fx = fixtures_of(&records).map_err(|e| format!("plan release {number}: {e}"))?;
    fx.replace_all(scratch).map_err(|e| e.to_string())?;
    Ok(())
}
