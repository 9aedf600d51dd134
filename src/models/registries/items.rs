//! Reading a registry's items: the item query parsed against the registry's schema, the release
//! read, then one page (its total and the cursor of the next) or, for an export, every selected
//! item in batches from one snapshot. No HTTP here: the API's handlers and the web page call it
//! alike, so a page and its API call always agree.

use crate::db::items::{self, Condition, Version};
pub use crate::db::items::{ItemRow, Select};
use crate::db::{DbConn, PooledConn, ReadSnapshot};
use crate::models::cursor::{self, CursorError, ItemCursor};
use crate::models::lang::Lang;
use crate::models::params::{self, ParamError};
use crate::models::registries::geometry::GeometryKind;
use crate::models::registries::query::{self, ItemQuery};
use crate::models::registries::{self, Registry};
use crate::models::releases::{self, FindError, MissingRelease, Release};

/// Filtered totals are counted up to this many items unless the request asks for an exact count.
pub const COUNT_CAP: i64 = 1000;
/// Rows read per batch of an export.
pub const EXPORT_BATCH: i64 = 2000;

/// Which of the registry's texts a read loads (texts cost queries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Texts {
    /// The schema only.
    None,
    /// For sample data, the registry's own texts (its sample notice), not its fields'.
    SampleNote,
    /// Every text, the fields' labels too, and the sources.
    All,
}

/// Declares the parameters of item requests once, in their documented order: the struct the
/// control parameters are parsed into, whose fields document every parameter in OpenAPI
/// (`IntoParams`), and the lookup of each by name. `query` parameters (`sort`, `fields`, `q`,
/// `bbox`) belong to the item query and are parsed against the registry's schema.
macro_rules! item_params {
    ($($(#[$attr:meta])* $kind:ident $name:ident,)*) => {
        /// Parameters of item requests that are not filters. Everything else in the query string
        /// is a filter on a schema field (`field=value`, `field__op=value`) or refused.
        #[derive(Debug, Default, Clone, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct ItemQueryParams {
            $($(#[$attr])* $name: Option<String>,)*
        }

        impl ItemQueryParams {
            /// Where the value of the control parameter `name` goes, if it is one (the item
            /// query's parameters are documented here but parsed against the schema).
            fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
                match name {
                    $(stringify!($name) if stringify!($kind) == "control" => Some(&mut self.$name),)*
                    _ => None,
                }
            }

            fn value(&self, name: &str) -> Option<&str> {
                match name {
                    $(stringify!($name) => self.$name.as_deref(),)*
                    _ => None,
                }
            }
        }
    };
}

item_params! {
    /// Read this release of the registry (see `/registries/{slug}/releases`) instead of the
    /// latest: the answer never changes and is cached as immutable. Unpinned pages name the
    /// release they were read from, and their cursors stay on it.
    #[param(value_type = Option<i64>, minimum = 1, example = 1)]
    control release,
    /// Page size, 1 to 1000. JSON pages default to 100; CSV, GeoJSON and NDJSON without `limit`
    /// are complete exports streamed in batches (never truncated).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    control limit,
    /// Opaque cursor from the previous page (`next_cursor` or `Link: rel="next"`), bound to the
    /// filters and sort it was issued for.
    control cursor,
    /// Sort by schema fields, comma-separated, `-` for descending (`sort=-year,name`); nulls last;
    /// ties in the order of the publisher's file. Default: the file's order (in the release read).
    #[param(example = "-year,name")]
    query sort,
    /// Only these fields (comma-separated; the id field is always included).
    #[param(example = "name,year")]
    query fields,
    /// Full-text search over the text fields: every word must occur (case-insensitive, Cyrillic
    /// aware, apostrophes unified).
    #[param(example = "кам'янецька")]
    query q,
    /// Items whose bounding box intersects `minLon,minLat,maxLon,maxLat` (WGS84).
    #[param(example = "26.95,49.40,27.00,49.44")]
    query bbox,
    /// `exact` counts every match; by default a filtered total is counted up to 1000 and
    /// `total_exact` says whether it is exact.
    #[param(value_type = Option<CountName>)]
    control count,
    /// Language of CSV labels (`header=labels`) and of the sample notice: uk, en or es.
    #[param(value_type = Option<Lang>)]
    control lang,
    /// `json`, `csv`, `geojson` or `ndjson` (overrides `Accept`; not needed with an extension).
    #[param(value_type = Option<ItemFormatName>)]
    control format,
    /// CSV: start with a UTF-8 byte-order mark so Excel detects UTF-8 (`true`/`false`, default false).
    #[param(value_type = Option<bool>)]
    control bom,
    /// CSV column separator: `comma` (default), `semicolon` (Excel in comma-decimal locales) or `tab`.
    #[param(value_type = Option<DelimiterName>, example = "semicolon")]
    control delimiter,
    /// CSV header row: `names` (field names, default) or `labels` (field labels in `lang`).
    #[param(value_type = Option<CsvHeaderName>, example = "labels")]
    control header,
    /// CSV/GeoJSON/NDJSON: `true` sends `Content-Disposition: attachment` with a file name of
    /// the registry slug and today's date.
    #[param(value_type = Option<bool>)]
    control download,
    /// CSV: text cells starting with `=`, `+`, `-`, `@`, tab or carriage return get a leading
    /// `'` so spreadsheets show them instead of running them (default `true`; `false` keeps
    /// them as stored).
    #[param(value_type = Option<bool>)]
    control neutralise_formulas,
}

/// Item formats (`?format=`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documentation only: values are parsed in `negotiate::format`.
pub enum ItemFormatName {
    Json,
    Csv,
    Geojson,
    Ndjson,
}

/// How to count the matches (`?count=`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documentation only: parsed by `ItemParams`.
pub enum CountName {
    Exact,
}

/// CSV column separators (`?delimiter=`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documentation only: parsed by `Delimiter::parse`.
pub enum DelimiterName {
    Comma,
    Semicolon,
    Tab,
}

/// CSV header rows (`?header=`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documentation only: parsed by `ItemParams`.
pub enum CsvHeaderName {
    Names,
    Labels,
}

/// An item request's query string: its control parameters by name, and the item query.
#[derive(Debug, Clone)]
pub struct ItemParams {
    control: ItemQueryParams,
    pub query_pairs: Vec<(String, String)>,
}

impl ItemParams {
    pub fn parse(query_string: &str) -> Result<Self, ParamError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query_string).map_err(|e| ParamError {
                parameter: None,
                detail: format!("malformed query string: {e}"),
            })?;
        let mut control = ItemQueryParams::default();
        let mut query_pairs = Vec::new();
        for (key, value) in pairs {
            if key == "expand" {
                return Err(ParamError::new("expand", "items have nothing to expand"));
            }
            match control.slot(&key) {
                Some(Some(_)) => return Err(ParamError::new(key, "is given more than once")),
                Some(slot) => *slot = Some(value),
                None => query_pairs.push((key, value)),
            }
        }
        Ok(ItemParams {
            control,
            query_pairs,
        })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.control.value(name)
    }

    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ParamError> {
        match self.get(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(ParamError::new(
                name,
                format!("{other:?} is not true or false"),
            )),
        }
    }

    /// `count=exact`: count every match instead of stopping at the cap.
    pub fn exact_count(&self) -> Result<bool, ParamError> {
        match self.get("count") {
            None => Ok(false),
            Some("exact") => Ok(true),
            Some(other) => Err(ParamError::new("count", format!("{other:?} is not exact"))),
        }
    }

    /// `limit`: 1 to 1000, `default` when absent (`None`: the whole selection).
    pub fn limit(&self, default: Option<u32>) -> Result<Option<u32>, ParamError> {
        match (self.get("limit"), default) {
            (None, None) => Ok(None),
            (raw, default) => params::limit_within(
                raw,
                default.unwrap_or(params::DEFAULT_LIMIT),
                params::MAX_LIMIT,
            )
            .map(Some),
        }
    }

    pub fn release(&self) -> Result<Option<i64>, ParamError> {
        params::release_number(self.get("release"))
    }

    /// The request these parameters make for `slug` (`limit_default`: see [`ItemParams::limit`]).
    pub fn request(
        &self,
        slug: String,
        limit_default: Option<u32>,
    ) -> Result<ItemRequest, ParamError> {
        Ok(ItemRequest {
            slug,
            query: self.query_pairs.clone(),
            exact_count: self.exact_count()?,
            limit: self.limit(limit_default)?,
            cursor: self.get("cursor").map(str::to_owned),
            release: self.release()?,
            texts: Texts::None,
            needs_geometry: false,
        })
    }
}

/// What to read.
#[derive(Debug, Clone)]
pub struct ItemRequest {
    pub slug: String,
    /// The item query as `name=value` pairs: field filters, `q`, `bbox`, `sort`, `fields`.
    pub query: Vec<(String, String)>,
    /// Read this release instead of the latest.
    pub release: Option<i64>,
    /// Continue after the page this cursor was issued for.
    pub cursor: Option<String>,
    /// Page size; `None` reads no page: the caller exports the selection with [`Export`].
    pub limit: Option<u32>,
    /// Count every match instead of stopping at [`COUNT_CAP`].
    pub exact_count: bool,
    pub texts: Texts,
    /// Refuse a registry without geometry (GeoJSON has nothing to show of it).
    pub needs_geometry: bool,
}

/// The answer: the registry, what was selected, the release read and, for a page, the page.
pub struct ItemsRead {
    pub registry: Registry,
    pub query: ItemQuery,
    pub select: Select,
    /// None before the first import.
    pub release: Option<Release>,
    pub page: Option<ItemsPage>,
}

/// One page of items.
#[derive(Default)]
pub struct ItemsPage {
    /// At most `limit` items.
    pub items: Vec<ItemRow>,
    /// Matching items: exact when `total_exact`, otherwise at least this many.
    pub total: i64,
    pub total_exact: bool,
    pub limit: u32,
    /// Where the next page starts; none on the last page.
    pub next_cursor: Option<String>,
    /// Why an empty page is empty, when the caller can do something about it.
    pub hint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("no registry {0:?}")]
    NoRegistry(String),
    #[error("registry {0:?} has no geometry: no GeoJSON; use JSON, CSV or NDJSON")]
    NoGeometry(String),
    /// A request parameter the registry cannot take.
    #[error("{}", .0.detail)]
    Invalid(ParamError),
    #[error("{0}")]
    NoSuchRelease(MissingRelease),
    #[error("registry {slug:?} has no item {item_id:?}{}", release.map_or(String::new(), |n| format!(" at release {n}")))]
    NoItem {
        slug: String,
        item_id: String,
        release: Option<i64>,
    },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<FindError> for ReadError {
    fn from(e: FindError) -> Self {
        match e {
            FindError::Missing(missing) => ReadError::NoSuchRelease(missing),
            FindError::Database(e) => ReadError::Database(e),
        }
    }
}

fn invalid(parameter: &str, detail: impl Into<String>) -> ReadError {
    ReadError::Invalid(ParamError::new(parameter, detail))
}

fn bad_cursor(e: CursorError) -> ReadError {
    invalid("cursor", e.to_string())
}

/// Keeps filtered counts of releases. A release never changes, so a count computed once is the
/// answer for good.
pub trait CountCache {
    /// The count under `key`, computing it on a miss.
    fn count_or(
        &self,
        key: String,
        compute: &mut dyn FnMut() -> diesel::QueryResult<i64>,
    ) -> diesel::QueryResult<i64>;
}

/// Reads what `request` asks for on one connection: registry, query, release, and the page.
pub fn read(
    conn: &mut DbConn,
    request: &ItemRequest,
    counts: &dyn CountCache,
) -> Result<ItemsRead, ReadError> {
    let mut registry = registries::find_schema(conn, &request.slug)?
        .ok_or_else(|| ReadError::NoRegistry(request.slug.clone()))?;
    match request.texts {
        Texts::None => {}
        Texts::SampleNote if registry.row.sample => {
            registries::load_own_texts(conn, &mut registry)?
        }
        Texts::SampleNote => {}
        Texts::All => registry = registries::find(conn, &request.slug)?.unwrap_or(registry),
    }
    if request.needs_geometry && registry.geometry == GeometryKind::None {
        return Err(ReadError::NoGeometry(registry.slug().to_owned()));
    }
    let parsed = query::parse(&registry, &request.query)
        .map_err(|e| ReadError::Invalid(ParamError::new(e.parameter, e.detail)))?;
    let mut pinned = request.release;
    let after = match &request.cursor {
        None => None,
        Some(cursor) => {
            let fingerprint = cursor::item_fingerprint(registry.slug(), &parsed.canonical);
            let position = cursor::decode_item_cursor(cursor, &fingerprint).map_err(bad_cursor)?;
            match (request.release, position.release) {
                (Some(asked), Some(read)) if asked != read => {
                    return Err(invalid(
                        "cursor",
                        format!("was issued for release {read}, not {asked}"),
                    ));
                }
                (_, Some(read)) => pinned = Some(read),
                _ => {}
            }
            let typed = query::sort_values_from_cursor(&registry, &parsed.sort, &position.after)
                .ok_or_else(|| {
                    invalid("cursor", "does not fit this sort; start again without it")
                })?;
            Some((typed, position.seq))
        }
    };
    // Every read names one release; later pages (and an export) stay on it.
    let release = releases::read_at(conn, &releases::registry_dataset(registry.slug()), pinned)?;
    let select = Select {
        version: release
            .as_ref()
            .map_or(Version::Current, |r| Version::AsOf(r.number)),
        conditions: parsed.conditions.clone(),
        sort: parsed.sort.clone(),
        after,
        limit: None,
    };
    let page = match request.limit {
        None => None,
        Some(limit) => Some(read_page(
            conn,
            &registry,
            &parsed,
            &select,
            release.as_ref(),
            limit,
            request.exact_count,
            counts,
        )?),
    };
    Ok(ItemsRead {
        registry,
        query: parsed,
        select,
        release,
        page,
    })
}

#[allow(clippy::too_many_arguments)]
fn read_page(
    conn: &mut DbConn,
    registry: &Registry,
    parsed: &ItemQuery,
    select: &Select,
    release: Option<&Release>,
    limit: u32,
    exact_count: bool,
    counts: &dyn CountCache,
) -> Result<ItemsPage, ReadError> {
    let table = &registry.row.table_name;
    let mut rows = items::select(
        conn,
        table,
        &Select {
            limit: Some(i64::from(limit) + 1),
            ..select.clone()
        },
    )?;
    let mut count = |cap: Option<i64>| -> diesel::QueryResult<i64> {
        let mut run = || items::count(conn, table, select.version, &select.conditions, cap);
        match release {
            // A count of a release is kept under that release: it can never change.
            Some(r) => counts.count_or(
                format!(
                    "{}@{}\n{cap:?}\n{:?}",
                    r.dataset, r.number, select.conditions
                ),
                &mut run,
            ),
            None => run(),
        }
    };
    let (total, total_exact) = if select.conditions.is_empty() {
        (release.map_or(0, |r| r.row_count), true)
    } else if exact_count {
        (count(None)?, true)
    } else {
        let n = count(Some(COUNT_CAP + 1))?;
        (n.min(COUNT_CAP), n <= COUNT_CAP)
    };
    // A box that matched nothing may have its corners in latitude,longitude order, or lie far
    // from the data: say where the items are (one aggregate query, only for empty pages).
    let bbox = select.conditions.iter().find_map(|c| match c {
        Condition::BBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        } => Some([*min_lon, *min_lat, *max_lon, *max_lat]),
        _ => None,
    });
    let hint = match bbox {
        Some(bbox) if total == 0 => items::extent(conn, table, select.version)?
            .and_then(|extent| query::bbox_hint(bbox, extent)),
        _ => None,
    };
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| rows.last())
        .flatten()
        .map(|last| cursor_after(last, select, registry.slug(), parsed, release));
    Ok(ItemsPage {
        items: rows,
        total,
        total_exact,
        limit,
        next_cursor,
        hint,
    })
}

/// One item by its id, in the release pinned (else the latest): the registry's schema, the row
/// and the release read.
pub fn find_one(
    conn: &mut DbConn,
    slug: &str,
    item_id: &str,
    pinned: Option<i64>,
) -> Result<(Registry, ItemRow, Option<Release>), ReadError> {
    let registry = registries::find_schema(conn, slug)?
        .ok_or_else(|| ReadError::NoRegistry(slug.to_owned()))?;
    let release = releases::read_at(conn, &releases::registry_dataset(slug), pinned)?;
    let row = items::select(
        conn,
        &registry.row.table_name,
        &Select {
            version: release
                .as_ref()
                .map_or(Version::Current, |r| Version::AsOf(r.number)),
            conditions: vec![Condition::ItemId(item_id.to_owned())],
            limit: Some(1),
            ..Select::default()
        },
    )?
    .pop()
    .ok_or_else(|| ReadError::NoItem {
        slug: slug.to_owned(),
        item_id: item_id.to_owned(),
        release: release.as_ref().map(|r| r.number),
    })?;
    Ok((registry, row, release))
}

/// The sort values (as JSON) and `seq` of a row, for a cursor or the next batch.
fn position_after(row: &ItemRow, select: &Select) -> (Vec<serde_json::Value>, i64) {
    (query::sort_values(&select.sort, &row.data), row.seq)
}

/// The cursor of the page after `last`, bound to the query and the release read.
fn cursor_after(
    last: &ItemRow,
    select: &Select,
    slug: &str,
    parsed: &ItemQuery,
    release: Option<&Release>,
) -> String {
    let (after, seq) = position_after(last, select);
    cursor::encode_item_cursor(
        ItemCursor {
            after,
            seq,
            release: release.map(|r| r.number),
        },
        &cursor::item_fingerprint(slug, &parsed.canonical),
    )
}

/// A complete export in progress: every item a read selected, in batches read from one snapshot
/// (so the export is one release even while imports run).
pub struct Export {
    snapshot: ReadSnapshot<PooledConn>,
}

impl Export {
    pub fn begin(conn: PooledConn) -> diesel::QueryResult<Self> {
        Ok(Export {
            snapshot: ReadSnapshot::begin(conn)?,
        })
    }

    /// Hands every batch of `select`'s items to `each`, in order, until it returns false.
    pub fn for_each_batch(
        &mut self,
        registry: &Registry,
        select: &Select,
        mut each: impl FnMut(&[ItemRow]) -> bool,
    ) -> diesel::QueryResult<()> {
        let position = |row: &ItemRow| {
            let (values, seq) = position_after(row, select);
            query::sort_values_from_cursor(registry, &select.sort, &values).map(|v| (v, seq))
        };
        items::for_each_batch(
            self.snapshot.conn(),
            &registry.row.table_name,
            select,
            EXPORT_BATCH,
            position,
            |rows| Ok(each(rows)),
        )
    }
}
