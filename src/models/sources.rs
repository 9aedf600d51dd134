//! Sources: the documents every fact is taken from.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::sources;
use crate::models::{Page, PageRequest, keyset};

#[derive(
    Debug,
    Clone,
    Queryable,
    Selectable,
    Insertable,
    AsChangeset,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[diesel(table_name = sources, treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[schema(example = json!({"id": "ogp-uakly0003", "title": "OGP commitment page UAKLY0003", "url": "https://opengovpartnership.org/members/khmelnytskyi-ukraine/commitments/uakly0003", "seed_file": null, "publisher": "Open Government Partnership", "lang": "en", "excerpt_cut": true, "note": null}))]
pub struct Source {
    /// Stable slug.
    pub id: String,
    pub title: String,
    /// Where the document can be read; null when it is only held as a seed file.
    pub url: Option<String>,
    /// File name in the project's seed documents, when the source is one.
    pub seed_file: Option<String>,
    pub publisher: Option<String>,
    /// Language of the document.
    pub lang: String,
    /// True when only the first part of the document could be read.
    pub excerpt_cut: bool,
    pub note: Option<String>,
}

pub fn list(conn: &mut DbConn, page: &PageRequest) -> QueryResult<Page<Source>> {
    keyset::page(
        conn,
        || sources::table.into_boxed(),
        sources::id,
        page,
        |source: &Source| source.id.clone(),
        |_, rows| Ok(rows),
    )
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Source>> {
    keyset::find(
        conn,
        sources::table.into_boxed(),
        sources::id,
        id,
        |_, rows| Ok(rows),
    )
}
