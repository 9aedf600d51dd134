//! The data model and its queries. Plain structs and sync functions taking `&mut DbConn`; no HTTP
//! here. Query functions return records together with their texts (in every language) and sources;
//! the API layer picks the language.

pub mod audit;
pub mod catalog;
pub mod changes;
pub mod commitments;
pub mod cursor;
pub mod feeds;
pub mod fixture_set;
pub mod fixtures;
pub mod institutions;
pub mod json_text;
pub(crate) mod keyset;
pub mod lang;
pub mod milestones;
pub mod params;
pub mod partial_date;
pub mod plan_edits;
pub mod plan_release;
pub mod plans;
pub mod progress;
pub mod provenance;
pub mod registries;
pub mod releases;
pub mod sources;
pub mod tokens;
pub mod uploads;
pub mod vocab;

/// A keyset page request: records strictly after `after` (in id order), at most `limit`.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: u32,
}

/// One page of records plus the exact number of records matching the filters.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The key of the last item, when more records follow.
    pub next_after: Option<String>,
    pub total: i64,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` loaded rows: the extra row only says another page exists.
    pub(crate) fn from_overfetch(
        mut rows: Vec<T>,
        limit: u32,
        total: i64,
        key: impl Fn(&T) -> String,
    ) -> Self {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_after = if has_more {
            rows.last().map(&key)
        } else {
            None
        };
        Page {
            items: rows,
            next_after,
            total,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
            total: self.total,
        }
    }
}

/// Names under which texts and sources of each kind of record are stored.
pub mod entity {
    pub const MEMBER: &str = "member";
    pub const ACTION_PLAN: &str = "action_plan";
    pub const COMMITMENT: &str = "commitment";
    pub const MILESTONE: &str = "milestone";
    pub const INSTITUTION: &str = "institution";
    pub const SPACE: &str = "co_creation_space";
    pub const ENDORSEMENT: &str = "endorsement";
    pub const INVOLVEMENT: &str = "involvement";
    pub const ASSESSMENT: &str = "assessment";
    pub const PROGRESS_UPDATE: &str = "progress_update";
    pub const REGISTRY: &str = "registry";
    pub const REGISTRY_FIELD: &str = "registry_field";
    /// Links a registry to the sources that are standards its structure follows
    /// (`conforms_to`, DCAT `dct:conformsTo`), in `record_sources`.
    pub const REGISTRY_STANDARD: &str = "registry_standard";
}
