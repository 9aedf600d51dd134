//! `/api/v1/registries`: datasets with their passport and schema, and their items as JSON, CSV,
//! GeoJSON and NDJSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::csv::{self, Cell};
use crate::api::dto::classified_cell;
use crate::api::dto::{
    DateValue, ListBody, RecordLinks, SourceRef, date, provenance, source_refs, text_cells,
};
use crate::api::items::{CsvOptions, Delimiter, Renderer, position_after, stream_export};
use crate::api::negotiate::{self, Format, LangContext};
use crate::api::pagination;
use crate::api::params::{list_params, record_params};
use crate::api::release::{self, ReleaseRef};
use crate::api::respond::{self, CsvRecord, Listing};
use crate::api::spec::written_schema;
use crate::api::{AppState, ReadAt, run, run_app};
use crate::db::items::{self, Select, Version};
use crate::error::AppError;
use crate::models::lang::{Lang, LocalizedText};
use crate::models::provenance::{FieldProvenance, FieldProvenances};
use crate::models::registries::geometry::GeometryKind;
use crate::models::registries::query::{self, Operator};
use crate::models::registries::schema::FieldType;
use crate::models::registries::{self, Registry};
use crate::models::releases::{self, Release};
use crate::models::vocab::{UpdateFrequency, parse_stored};

/// Formats of registry items.
const ITEM_FORMATS: &[Format] = &[Format::Json, Format::Csv, Format::GeoJson, Format::NdJson];
/// Filtered totals are counted up to this many items unless `count=exact`.
pub const COUNT_CAP: i64 = 1000;

/// How often a registry is updated, in both vocabularies.
#[derive(Debug, Serialize, ToSchema)]
pub struct FrequencyDto {
    #[schema(example = "annual")]
    pub code: UpdateFrequency,
    /// Resolution 835 wording.
    #[schema(example = "Щороку")]
    pub label_835: &'static str,
    /// EU frequency authority code (DCAT-AP `dct:accrualPeriodicity`).
    #[schema(example = "ANNUAL")]
    pub eu_code: &'static str,
}

/// A field of a registry's item schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldDto {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub required: bool,
    pub unit: Option<String>,
    pub allowed_values: Option<Vec<String>>,
    pub label: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    /// Filter operators for this field (`field__op=value`).
    pub operators: Vec<&'static str>,
}

/// A registry: the dataset passport (resolution 835, mapped to DCAT-AP) and its item schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistryDto {
    #[schema(example = "territorial-units")]
    pub slug: String,
    /// True when the items are generated sample data, not real records.
    pub sample: bool,
    /// Says in plain words that the data is sample data (null for real data).
    pub sample_note: Option<LocalizedText>,
    pub title: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    /// Keywords in the served language, `; `-separated in the source.
    pub keywords: Vec<String>,
    pub keywords_lang: Option<Lang>,
    pub purpose: Option<LocalizedText>,
    pub attribution: Option<LocalizedText>,
    /// SPDX licence id.
    pub license: Option<String>,
    pub license_url: Option<String>,
    pub publisher_id: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub update_frequency: Option<FrequencyDto>,
    /// Languages of the item values (ISO 639-1).
    pub languages: Vec<String>,
    pub issued: Option<DateValue>,
    pub modified: Option<DateValue>,
    /// KATOTTG code of the area covered.
    pub spatial: Option<String>,
    pub related_commitment_id: Option<String>,
    pub geometry: GeometryKind,
    pub id_field: String,
    pub fields: Vec<FieldDto>,
    pub item_count: i64,
    /// When the current items were imported (RFC 3339 UTC).
    pub imported_at: Option<String>,
    pub sources: Vec<SourceRef>,
    /// Where single fields come from when not simply from `sources`: `{"source": id}` for a
    /// field stated by one particular source, `{"classified": basis}` for the project's own
    /// classification (credited to no source). Keyed by member name.
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
    pub links: RecordLinks,
}

impl RegistryDto {
    fn new(r: &Registry, ctx: &LangContext) -> Self {
        let slug = r.slug();
        let keywords = ctx.pick(&r.texts, "keywords");
        let items = format!("/api/v1/registries/{slug}/items");
        let mut related = BTreeMap::from([
            ("items", items.clone()),
            ("csv", format!("{items}.csv")),
            ("ndjson", format!("{items}.ndjson")),
        ]);
        if r.geometry != GeometryKind::None {
            related.insert("geojson", format!("{items}.geojson"));
        }
        RegistryDto {
            slug: slug.to_owned(),
            sample: r.row.sample,
            sample_note: ctx.pick(&r.texts, "sample_note"),
            title: ctx.pick(&r.texts, "title"),
            description: ctx.pick(&r.texts, "description"),
            keywords: keywords
                .as_ref()
                .map(|k| k.value.split("; ").map(str::to_owned).collect())
                .unwrap_or_default(),
            keywords_lang: keywords.map(|k| k.lang),
            purpose: ctx.pick(&r.texts, "purpose"),
            attribution: ctx.pick(&r.texts, "attribution"),
            license: r.row.license.clone(),
            license_url: r.row.license_url.clone(),
            publisher_id: r.row.publisher_id.clone(),
            contact_name: r.row.contact_name.clone(),
            contact_email: r.row.contact_email.clone(),
            update_frequency: parse_stored::<UpdateFrequency>(r.row.update_frequency.as_deref())
                .map(|f| FrequencyDto {
                    code: f,
                    label_835: f.label_835(),
                    eu_code: f.eu_code(),
                }),
            languages: r
                .row
                .languages
                .split(',')
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            issued: date(r.row.issued.as_deref()),
            modified: date(r.row.modified.as_deref()),
            spatial: r.row.spatial.clone(),
            related_commitment_id: r.row.related_commitment_id.clone(),
            geometry: r.geometry,
            id_field: r.row.id_field.clone(),
            fields: r
                .fields
                .iter()
                .map(|f| {
                    let texts = r.field_texts.get(&f.name).cloned().unwrap_or_default();
                    FieldDto {
                        name: f.name.clone(),
                        kind: f.kind,
                        required: f.required,
                        unit: f.unit.clone(),
                        allowed_values: f.allowed_values.clone(),
                        label: ctx.pick(&texts, "label"),
                        description: ctx.pick(&texts, "description"),
                        operators: Operator::names_for(f.kind),
                    }
                })
                .collect(),
            item_count: r.row.item_count,
            imported_at: r.row.imported_at.clone(),
            sources: source_refs(&r.sources),
            provenance: provenance(&r.provenance, &[]),
            links: RecordLinks {
                self_link: format!("/api/v1/registries/{slug}"),
                related,
            },
        }
    }
}

impl CsvRecord for RegistryDto {
    const HEADER: &'static [&'static str] = &[
        "slug",
        "title",
        "title_lang",
        "sample",
        "item_count",
        "geometry",
        "update_frequency",
        "license",
        "publisher_id",
        "related_commitment_id",
        "spatial",
        "issued",
        "modified",
        "source_ids",
        "classified_fields",
    ];

    fn row(&self) -> Vec<Cell> {
        let [title, title_lang] = text_cells(&self.title);
        vec![
            Cell::text(&self.slug),
            title,
            title_lang,
            Cell::text(if self.sample { "true" } else { "false" }),
            Cell::number(self.item_count),
            Cell::text(self.geometry.as_str()),
            Cell::opt_text(self.update_frequency.as_ref().map(|f| f.code.as_str())),
            Cell::opt_text(self.license.as_deref()),
            Cell::opt_text(self.publisher_id.as_deref()),
            Cell::opt_text(self.related_commitment_id.as_deref()),
            Cell::opt_text(self.spatial.as_deref()),
            Cell::opt_text(self.issued.as_ref().map(|d| d.value.as_str())),
            Cell::opt_text(self.modified.as_ref().map(|d| d.value.as_str())),
            Cell::text(csv::join(self.sources.iter().map(|s| s.id.as_str()))),
            classified_cell(&self.provenance),
        ]
    }
}

list_params! {
    pub struct ListRegistriesParams {}
}

record_params! {
    pub struct GetRegistryParams {}
}

async fn list(
    req: HttpRequest,
    params: ListRegistriesParams,
    state: web::Data<AppState>,
    extension: Option<Format>,
) -> Result<HttpResponse, AppError> {
    let listing = Listing::new(&req, "registries", extension, params.common(), &[])?;
    let page = listing.page.clone();
    let found = run(&state, move |conn| registries::list(conn, &page)).await?;
    listing.respond(&req, found, &ReadAt::default(), RegistryDto::new)
}

/// List registries.
///
/// Every registry with its passport (resolution 835 fields mapped to DCAT-AP), item schema and
/// links to its items in each format. Sample registries say so (`sample`, `sample_note`).
#[utoipa::path(
    tag = "registries",
    params(ListRegistriesParams),
    responses(
        (status = 200, description = "A page of registries",
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows")),
            content((ListBody<RegistryDto> = "application/json"), (String = "text/csv"))),
    )
)]
#[get("/registries")]
pub async fn list_registries(
    req: HttpRequest,
    params: web::Query<ListRegistriesParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    list(req, params.into_inner(), state, None).await
}

/// List registries as CSV.
///
/// Columns in this fixed order: `slug, title, title_lang, sample, item_count, geometry,
/// update_frequency, license, publisher_id, related_commitment_id, spatial, issued, modified,
/// source_ids, classified_fields`.
#[utoipa::path(
    tag = "registries",
    params(ListRegistriesParams),
    responses((status = 200, description = "Registries as CSV", body = String, content_type = "text/csv")),
)]
#[get("/registries.csv")]
pub async fn list_registries_csv(
    req: HttpRequest,
    params: web::Query<ListRegistriesParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    list(req, params.into_inner(), state, Some(Format::Csv)).await
}

fn sample_headers(builder: &mut HttpResponseBuilder, registry: &Registry) {
    if registry.row.sample {
        builder.insert_header((
            "X-Sample-Data",
            "true; generated sample data, not real records",
        ));
    }
}

/// Get one registry: passport, schema and links.
#[utoipa::path(
    tag = "registries",
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        GetRegistryParams,
    ),
    responses(
        (status = 200, description = "The registry", body = RegistryDto,
            headers(("X-Sample-Data" = String, description = "Present when the items are generated sample data"))),
    )
)]
#[get("/registries/{slug}")]
pub async fn get_registry(
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<GetRegistryParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    negotiate::from_accept(&req, &[Format::Json])?;
    let ctx = LangContext::new(negotiate::language(&req, params.lang.as_deref())?);
    let slug = path.into_inner();
    let lookup = slug.clone();
    let found = run(&state, move |conn| registries::find(conn, &lookup)).await?;
    let registry = found.ok_or_else(|| AppError::NotFound(format!("no registry {slug:?}")))?;
    let mut response =
        respond::record(&ctx, &RegistryDto::new(&registry, &ctx), &ReadAt::default());
    if registry.row.sample {
        response.headers_mut().insert(
            header::HeaderName::from_static("x-sample-data"),
            header::HeaderValue::from_static("true; generated sample data, not real records"),
        );
    }
    Ok(response)
}

/// Parameters of item requests that are not filters. Everything else in the query string is a
/// filter on a schema field (`field=value`, `field__op=value`) or refused.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documentation of the parameters parsed by `ItemParams::parse`.
pub struct ItemQueryParams {
    /// Read this release of the registry (see `/registries/{slug}/releases`) instead of the
    /// latest: the answer never changes and is cached as immutable. Unpinned pages name the
    /// release they were read from, and their cursors stay on it.
    #[param(value_type = Option<i64>, minimum = 1, example = 1)]
    release: Option<String>,
    /// Page size, 1 to 1000. JSON pages default to 100; CSV, GeoJSON and NDJSON without `limit`
    /// are complete exports streamed in batches (never truncated).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Opaque cursor from the previous page (`next_cursor` or `Link: rel="next"`), bound to the
    /// filters and sort it was issued for.
    cursor: Option<String>,
    /// Sort by schema fields, comma-separated, `-` for descending (`sort=-year,name`); nulls last;
    /// ties in the order of the publisher's file. Default: the file's order (in the release read).
    #[param(example = "-year,name")]
    sort: Option<String>,
    /// Only these fields (comma-separated; the id field is always included).
    #[param(example = "name,year")]
    fields: Option<String>,
    /// Full-text search over the text fields: every word must occur (case-insensitive, Cyrillic
    /// aware, apostrophes unified).
    #[param(example = "кам'янецька")]
    q: Option<String>,
    /// Items whose bounding box intersects `minLon,minLat,maxLon,maxLat` (WGS84).
    #[param(example = "26.95,49.40,27.00,49.44")]
    bbox: Option<String>,
    /// `exact` counts every match; by default a filtered total is counted up to 1000 and
    /// `total_exact` says whether it is exact.
    #[param(value_type = Option<CountName>)]
    count: Option<String>,
    /// Language of CSV labels (`header=labels`) and of the sample notice: uk, en or es.
    #[param(value_type = Option<Lang>)]
    lang: Option<String>,
    /// `json`, `csv`, `geojson` or `ndjson` (overrides `Accept`; not needed with an extension).
    #[param(value_type = Option<ItemFormatName>)]
    format: Option<String>,
    /// CSV: start with a UTF-8 byte-order mark so Excel detects UTF-8 (`true`/`false`, default false).
    #[param(value_type = Option<bool>)]
    bom: Option<String>,
    /// CSV column separator: `comma` (default), `semicolon` (Excel in comma-decimal locales) or `tab`.
    #[param(value_type = Option<DelimiterName>, example = "semicolon")]
    delimiter: Option<String>,
    /// CSV header row: `names` (field names, default) or `labels` (field labels in `lang`).
    #[param(value_type = Option<CsvHeaderName>, example = "labels")]
    header: Option<String>,
    /// CSV/GeoJSON/NDJSON: `true` sends `Content-Disposition: attachment` with a file name of
    /// the registry slug and today's date.
    #[param(value_type = Option<bool>)]
    download: Option<String>,
    /// CSV: text cells starting with `=`, `+`, `-`, `@`, tab or carriage return get a leading
    /// `'` so spreadsheets show them instead of running them (default `true`; `false` keeps
    /// them as stored).
    #[param(value_type = Option<bool>)]
    neutralise_formulas: Option<String>,
}

/// Item formats (`?format=`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documentation only: values are parsed in `negotiate::format`.
pub enum ItemFormatName {
    Json,
    Csv,
    Geojson,
    Ndjson,
}

/// How to count the matches (`?count=`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documentation only: parsed by `ItemParams::parse`.
pub enum CountName {
    Exact,
}

/// CSV column separators (`?delimiter=`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documentation only: parsed by `Delimiter::parse`.
pub enum DelimiterName {
    Comma,
    Semicolon,
    Tab,
}

/// CSV header rows (`?header=`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documentation only: parsed by `ItemParams::parse`.
pub enum CsvHeaderName {
    Names,
    Labels,
}

const CONTROL_PARAMS: [&str; 12] = [
    "release",
    "limit",
    "cursor",
    "count",
    "lang",
    "format",
    "bom",
    "delimiter",
    "header",
    "download",
    "neutralise_formulas",
    "expand",
];

/// Parsed control parameters; the rest of the query string is the item query.
struct ItemParams {
    control: BTreeMap<String, String>,
    query_pairs: Vec<(String, String)>,
}

impl ItemParams {
    fn parse(query_string: &str) -> Result<Self, AppError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query_string).map_err(|e| AppError::InvalidParameter {
                parameter: None,
                detail: format!("malformed query string: {e}"),
            })?;
        let mut control = BTreeMap::new();
        let mut query_pairs = Vec::new();
        for (key, value) in pairs {
            if key == "expand" {
                return Err(AppError::invalid("expand", "items have nothing to expand"));
            }
            if CONTROL_PARAMS.contains(&key.as_str()) {
                if control.insert(key.clone(), value).is_some() {
                    return Err(AppError::invalid(key, "is given more than once"));
                }
            } else {
                query_pairs.push((key, value));
            }
        }
        Ok(ItemParams {
            control,
            query_pairs,
        })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.control.get(name).map(String::as_str)
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool, AppError> {
        match self.get(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(AppError::invalid(
                name,
                format!("{other:?} is not true or false"),
            )),
        }
    }

    /// `count=exact`: count every match instead of stopping at the cap.
    fn exact_count(&self) -> Result<bool, AppError> {
        match self.get("count") {
            None => Ok(false),
            Some("exact") => Ok(true),
            Some(other) => Err(AppError::invalid(
                "count",
                format!("{other:?} is not exact"),
            )),
        }
    }

    fn csv_options(&self, format: Format) -> Result<CsvOptions, AppError> {
        let options = CsvOptions {
            bom: self.flag("bom", false)?,
            delimiter: match self.get("delimiter") {
                None => Delimiter::Comma,
                Some(d) => Delimiter::parse(d).ok_or_else(|| {
                    AppError::invalid("delimiter", format!("{d:?} is not comma, semicolon or tab"))
                })?,
            },
            labels: match self.get("header") {
                None | Some("names") => false,
                Some("labels") => true,
                Some(other) => {
                    return Err(AppError::invalid(
                        "header",
                        format!("{other:?} is not names or labels"),
                    ));
                }
            },
            neutralise_formulas: self.flag("neutralise_formulas", true)?,
        };
        if format != Format::Csv {
            for name in ["bom", "delimiter", "header", "neutralise_formulas"] {
                if self.get(name).is_some() {
                    return Err(AppError::invalid(name, "applies to CSV only"));
                }
            }
        }
        Ok(options)
    }
}

fn query_error(e: query::QueryError) -> AppError {
    AppError::invalid(e.parameter, e.detail)
}

/// What the items handler learns from the database before answering.
struct Prepared {
    registry: Registry,
    parsed: query::ItemQuery,
    select: Select,
    /// The release read (none before the first import).
    release: Option<Release>,
    /// For a page: its rows (one extra when more follow), total and whether it is exact.
    page: Option<(Vec<items::ItemRow>, i64, bool)>,
    /// Why an empty page is empty, when the caller can do something about it.
    hint: Option<String>,
}

/// Everything about an items request that needs no database.
struct ItemRequest {
    slug: String,
    format: Format,
    lang: Lang,
    csv: CsvOptions,
    download: bool,
    exact_count: bool,
    /// `None`: a complete export.
    limit: Option<u32>,
    cursor: Option<String>,
    /// `?release=`: read this release instead of the latest.
    release: Option<i64>,
    pairs: Vec<(String, String)>,
}

/// Loads the registry, parses the query against its schema and, for a page, reads it — all on one
/// pooled connection in one blocking step. The connection is handed back for a streamed export.
fn prepare(
    conn: &mut crate::db::DbConn,
    request: &ItemRequest,
    counts: &crate::api::ItemCounts,
) -> Result<Prepared, AppError> {
    let mut registry = registries::find_schema(conn, &request.slug)?
        .ok_or_else(|| AppError::NotFound(format!("no registry {:?}", request.slug)))?;
    // Texts cost queries: field labels only for CSV `header=labels`, the sample notice only for
    // JSON pages of sample registries.
    if request.csv.labels {
        registry = registries::find(conn, &request.slug)?.unwrap_or(registry);
    } else if registry.row.sample && request.format == Format::Json {
        registries::load_own_texts(conn, &mut registry)?;
    }
    if request.format == Format::GeoJson && registry.geometry == GeometryKind::None {
        return Err(AppError::NotAcceptable(format!(
            "registry {:?} has no geometry: no GeoJSON; use JSON, CSV or NDJSON",
            registry.slug()
        )));
    }
    let parsed = query::parse(&registry, &request.pairs).map_err(query_error)?;
    let mut pinned = request.release;
    let after = match &request.cursor {
        None => None,
        Some(cursor) => {
            let fingerprint = pagination::item_fingerprint(registry.slug(), &parsed.canonical);
            let position = pagination::decode_item_cursor(cursor, &fingerprint)?;
            match (request.release, position.release) {
                (Some(asked), Some(read)) if asked != read => {
                    return Err(AppError::invalid(
                        "cursor",
                        format!("was issued for release {read}, not {asked}"),
                    ));
                }
                (_, Some(read)) => pinned = Some(read),
                _ => {}
            }
            let typed = query::sort_values_from_cursor(&registry, &parsed.sort, &position.after)
                .ok_or_else(|| {
                    AppError::invalid("cursor", "does not fit this sort; start again without it")
                })?;
            Some((typed, position.seq))
        }
    };
    // Every read names one release; later pages (and a streamed export) stay on it.
    let dataset = releases::registry_dataset(registry.slug());
    let release = match pinned {
        Some(n) => Some(releases::find(conn, &dataset, n)?.ok_or_else(|| {
            let latest = releases::latest(conn, &dataset).ok().flatten();
            release::not_found(&dataset, n, latest.as_ref())
        })?),
        None => releases::latest(conn, &dataset)?,
    };
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
        Some(limit) => {
            let table = &registry.row.table_name;
            let rows = items::select(
                conn,
                table,
                &Select {
                    limit: Some(i64::from(limit) + 1),
                    ..select.clone()
                },
            )?;
            // A count of a release is cached under that release: it can never change.
            let mut count = |cap: Option<i64>| -> diesel::QueryResult<i64> {
                let run = |conn: &mut crate::db::DbConn| {
                    items::count(conn, table, select.version, &select.conditions, cap)
                };
                match &release {
                    Some(r) => counts.get_or(
                        format!(
                            "{}@{}\n{cap:?}\n{:?}",
                            r.dataset, r.number, select.conditions
                        ),
                        || run(conn),
                    ),
                    None => run(conn),
                }
            };
            let (total, exact) = if select.conditions.is_empty() {
                (release.as_ref().map_or(0, |r| r.row_count), true)
            } else if request.exact_count {
                (count(None)?, true)
            } else {
                let n = count(Some(COUNT_CAP + 1))?;
                (n.min(COUNT_CAP), n <= COUNT_CAP)
            };
            Some((rows, total, exact))
        }
    };
    // A box that matched nothing may have its corners in latitude,longitude order, or lie far
    // from the data: say where the items are (one aggregate query, only for empty pages).
    let hint = match (
        &page,
        select.conditions.iter().find_map(|c| match c {
            items::Condition::BBox {
                min_lon,
                min_lat,
                max_lon,
                max_lat,
            } => Some([*min_lon, *min_lat, *max_lon, *max_lat]),
            _ => None,
        }),
    ) {
        (Some((_, 0, _)), Some(bbox)) => {
            items::extent(conn, &registry.row.table_name, select.version)?
                .and_then(|extent| query::bbox_hint(bbox, extent))
        }
        _ => None,
    };
    Ok(Prepared {
        registry,
        parsed,
        select,
        release,
        page,
        hint,
    })
}

async fn items(
    req: HttpRequest,
    slug: String,
    state: web::Data<AppState>,
    extension: Option<Format>,
) -> Result<HttpResponse, AppError> {
    let params = ItemParams::parse(req.query_string())?;
    let format = negotiate::format(&req, extension, params.get("format"), ITEM_FORMATS)?;
    let download = params.flag("download", false)?;
    if download && format == Format::Json {
        return Err(AppError::invalid(
            "download",
            "applies to CSV, GeoJSON and NDJSON",
        ));
    }
    let request = ItemRequest {
        slug,
        format,
        lang: negotiate::language(&req, params.get("lang"))?,
        csv: params.csv_options(format)?,
        download,
        exact_count: params.exact_count()?,
        limit: match (format, params.get("limit")) {
            (Format::Json, raw) => Some(pagination::limit(raw)?),
            (_, None) => None,
            (_, raw) => Some(pagination::limit(raw)?),
        },
        cursor: params.get("cursor").map(str::to_owned),
        release: release::parse_param(params.get("release"))?,
        pairs: params.query_pairs,
    };
    let (pool, gate) = state.reads();
    let pool = pool.clone();
    let counts = state.item_counts.clone();
    let admitted = gate.enter().await?;
    let (prepared, request, conn) = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let prepared = prepare(&mut conn, &request, &counts)?;
        Ok((prepared, request, conn))
    })
    .await??;
    let Prepared {
        registry,
        parsed,
        select,
        release,
        page,
        hint,
    } = prepared;
    let registry = Arc::new(registry);
    let renderer = Renderer {
        registry: registry.clone(),
        format,
        fields: parsed.fields.clone(),
        csv: request.csv,
        lang: request.lang,
        release: release
            .as_ref()
            .map(|r| ReleaseRef::new(r, request.release.is_some())),
    };
    let mut builder = HttpResponse::Ok();
    builder
        .content_type(format.media_type())
        .insert_header((header::VARY, "Accept, Accept-Language, Accept-Encoding"));
    sample_headers(&mut builder, &registry);
    if let Some(r) = &release {
        release::stamp(&mut builder, r);
    }
    if format == Format::Csv {
        // CSVW locates a CSV's column descriptions through this link (W3C tabular metadata §5.2).
        builder.append_header((
            header::LINK,
            format!(
                "</api/v1/registries/{}/items.csv-metadata.json>; rel=\"describedby\"; type=\"application/csvm+json\"",
                registry.slug()
            ),
        ));
    }
    if request.download {
        let extension = match format {
            Format::GeoJson => "geojson",
            Format::NdJson => "ndjson",
            _ => "csv",
        };
        builder.insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}-{}.{extension}\"",
                registry.slug(),
                chrono::Utc::now().format("%Y-%m-%d")
            ),
        ));
    }

    let (Some((mut rows, total, total_exact)), Some(limit)) = (page, request.limit) else {
        // A complete export, streamed from a blocking thread through a small bounded channel on
        // the connection already taken (so an outage was a 503 before any byte was sent).
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        actix_web::rt::task::spawn_blocking(move || {
            let _admitted = admitted;
            stream_export(conn, renderer, select, tx)
        });
        let body = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        return Ok(builder.streaming(body));
    };
    drop(conn);
    drop(admitted);
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| rows.last())
        .flatten()
        .map(|last| cursor_after(last, &select, registry.slug(), &parsed, release.as_ref()));
    let next = next_cursor.as_deref().map(|c| respond::next_link(&req, c));
    if let Some(next) = &next {
        builder.append_header((header::LINK, format!("<{next}>; rel=\"next\"")));
    }
    if total_exact {
        builder.insert_header(("X-Total-Count", total.to_string()));
    }
    let body = match format {
        Format::Json => {
            let mut out =
                String::with_capacity(rows.iter().map(|r| r.data.len() + 128).sum::<usize>() + 512);
            out.push_str("{\"registry\":");
            out.push_str(&serde_json::to_string(registry.slug()).unwrap_or_default());
            out.push_str(&format!(",\"sample\":{}", registry.row.sample));
            if registry.row.sample {
                let note = LangContext::new(request.lang).pick(&registry.texts, "sample_note");
                if let Some(note) = &note {
                    builder.insert_header((header::CONTENT_LANGUAGE, note.lang.code()));
                }
                out.push_str(",\"sample_note\":");
                out.push_str(&serde_json::to_string(&note).unwrap_or_else(|_| "null".into()));
            }
            out.push_str(",\"release\":");
            let reference = release
                .as_ref()
                .map(|r| ReleaseRef::new(r, request.release.is_some()));
            out.push_str(&serde_json::to_string(&reference).unwrap_or_else(|_| "null".into()));
            out.push_str(",\"items\":[");
            renderer.json_rows_into(&rows, true, &mut out);
            out.push_str(&format!(
                "],\"total\":{total},\"total_exact\":{total_exact},\"limit\":{limit},\"next_cursor\":{},\"links\":{{\"self\":{},\"next\":{}}}",
                serde_json::to_string(&next_cursor).unwrap_or_default(),
                serde_json::to_string(&respond::self_link(&req)).unwrap_or_default(),
                serde_json::to_string(&next).unwrap_or_default(),
            ));
            if let Some(hint) = &hint {
                out.push_str(",\"hint\":");
                out.push_str(&serde_json::to_string(hint).unwrap_or_default());
            }
            out.push('}');
            out.into_bytes()
        }
        _ => {
            let mut out = renderer.prologue();
            out.extend(renderer.rows(&rows, true));
            out.extend(renderer.epilogue(next.as_deref(), hint.as_deref()));
            out
        }
    };
    Ok(builder.body(body))
}

/// The cursor of the page after `last`, bound to the query and the release read.
fn cursor_after(
    last: &items::ItemRow,
    select: &Select,
    slug: &str,
    parsed: &query::ItemQuery,
    release: Option<&Release>,
) -> String {
    let (after, seq) = position_after(last, select);
    let fingerprint = pagination::item_fingerprint(slug, &parsed.canonical);
    pagination::encode_item_cursor(
        pagination::ItemCursor {
            after,
            seq,
            release: release.map(|r| r.number),
        },
        &fingerprint,
    )
}

/// A page of items as the web registry browser shows it: the same parameters, parsing and query
/// as `GET /registries/{slug}/items` (JSON), so a page and its API call always agree.
pub struct BrowsedPage {
    /// The registry with all its texts (field labels for the table header).
    pub registry: Registry,
    /// Items as the JSON API writes them: `{id, properties, geometry}`.
    pub items: Vec<serde_json::Value>,
    pub total: i64,
    pub total_exact: bool,
    pub limit: u32,
    pub next_cursor: Option<String>,
    pub release: Option<Release>,
    /// Sort keys in effect (`-name` for descending), as parsed.
    pub sort: Vec<(String, bool)>,
}

/// Reads one page of items for the web page `/registries/{slug}`: `query_string` is the page's
/// own, which takes the item parameters of the JSON API (and `lang`).
pub async fn browse_items(
    state: &AppState,
    slug: String,
    query_string: &str,
    lang: Lang,
    default_limit: u32,
) -> Result<BrowsedPage, AppError> {
    let params = ItemParams::parse(query_string)?;
    if let Some(name) = ["format", "download"]
        .into_iter()
        .find(|name| params.get(name).is_some())
    {
        return Err(AppError::invalid(
            name,
            "belongs to the API and download links, not to this page",
        ));
    }
    let request = ItemRequest {
        slug,
        format: Format::Json,
        lang,
        csv: params.csv_options(Format::Json)?,
        download: false,
        exact_count: params.exact_count()?,
        limit: Some(match params.get("limit") {
            None => default_limit,
            raw => pagination::limit(raw)?,
        }),
        cursor: params.get("cursor").map(str::to_owned),
        release: release::parse_param(params.get("release"))?,
        pairs: params.query_pairs,
    };
    run_app(state, {
        let counts = state.item_counts.clone();
        move |conn| {
            let prepared = prepare(conn, &request, &counts)?;
            let registry = registries::find(conn, &request.slug)?.unwrap_or(prepared.registry);
            let (mut rows, total, total_exact) = prepared.page.unwrap_or_default();
            let limit = request.limit.unwrap_or(default_limit);
            let has_more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let next_cursor = has_more.then(|| rows.last()).flatten().map(|last| {
                cursor_after(
                    last,
                    &prepared.select,
                    registry.slug(),
                    &prepared.parsed,
                    prepared.release.as_ref(),
                )
            });
            let registry = Arc::new(registry);
            let renderer = Renderer {
                registry: registry.clone(),
                format: Format::Json,
                fields: prepared.parsed.fields.clone(),
                csv: request.csv,
                lang: request.lang,
                release: None,
            };
            let mut json = String::from("[");
            renderer.json_rows_into(&rows, true, &mut json);
            json.push(']');
            let items = serde_json::from_str(&json)
                .map_err(|e| AppError::Internal(format!("items of the web page: {e}")))?;
            let sort = prepared
                .select
                .sort
                .iter()
                .map(|key| (key.field.clone(), key.descending))
                .collect();
            drop(renderer);
            let registry = Arc::unwrap_or_clone(registry);
            Ok(BrowsedPage {
                registry,
                items,
                total,
                total_exact,
                limit,
                next_cursor,
                release: prepared.release,
                sort,
            })
        }
    })
    .await
}

/// A page of registry items (JSON), each `{id, properties, geometry}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemPage {
    pub registry: String,
    /// True for generated sample data (then `sample_note` says so in words).
    pub sample: bool,
    pub sample_note: Option<LocalizedText>,
    /// The release these items were read from (null before the first import).
    pub release: Option<ReleaseRef>,
    pub items: Vec<ItemDto>,
    /// Matching items: exact when `total_exact`, otherwise at least this many.
    pub total: i64,
    pub total_exact: bool,
    pub limit: u32,
    pub next_cursor: Option<String>,
    pub links: crate::api::dto::PageLinks,
    /// On an empty page whose `bbox` lies wholly outside the registry's items: where the items
    /// are, and the box with longitude and latitude swapped when that one would match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// One registry item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDto {
    /// The value of the registry's id field.
    pub id: String,
    /// Field values by name, typed as the schema says.
    #[schema(value_type = Object)]
    pub properties: serde_json::Value,
    /// RFC 7946 geometry (WGS84), or null.
    #[schema(value_type = Option<Geometry>)]
    pub geometry: Option<serde_json::Value>,
}

/// One item on its own (`/registries/{slug}/items/{item_id}`): the item, the registry it
/// belongs to, whether it is sample data, and the release it was read from.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemRecordDto {
    /// The value of the registry's id field.
    pub id: String,
    /// Field values by name, typed as the schema says.
    #[schema(value_type = Object)]
    pub properties: serde_json::Value,
    /// RFC 7946 geometry (WGS84), or null.
    #[schema(value_type = Option<Geometry>)]
    pub geometry: Option<serde_json::Value>,
    /// The registry's slug.
    pub registry: String,
    /// True when the item is generated sample data, not a real record.
    pub sample: bool,
    /// The registry release the item was read from; null before the first import.
    pub release: Option<ReleaseRef>,
}

/// One RFC 7946 geometry object of the seven kinds (the geometry of a GeoJSON Feature).
fn geometry_schema() -> serde_json::Value {
    use serde_json::json;
    let position = json!({
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 3,
        "description": "Longitude, latitude (WGS84 degrees)",
    });
    let line = json!({"type": "array", "items": position, "minItems": 2});
    let ring = json!({"type": "array", "items": position, "minItems": 4});
    let polygon = json!({"type": "array", "items": ring});
    let bbox = json!({"type": "array", "items": {"type": "number"}, "minItems": 4});
    let shape = |kind: &str, coordinates: serde_json::Value| {
        json!({
            "type": "object",
            "title": kind,
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"type": "string", "enum": [kind]},
                "coordinates": coordinates,
                "bbox": bbox,
            },
        })
    };
    json!({
        "description": "An RFC 7946 geometry, WGS84 longitude/latitude.",
        "oneOf": [
            shape("Point", position.clone()),
            shape("MultiPoint", json!({"type": "array", "items": position})),
            shape("LineString", line.clone()),
            shape("MultiLineString", json!({"type": "array", "items": line})),
            shape("Polygon", polygon.clone()),
            shape("MultiPolygon", json!({"type": "array", "items": polygon})),
            {
                "type": "object",
                "title": "GeometryCollection",
                "required": ["type", "geometries"],
                "properties": {
                    "type": {"type": "string", "enum": ["GeometryCollection"]},
                    "geometries": {"type": "array", "items": {"$ref": "#/components/schemas/Geometry"}},
                    "bbox": bbox,
                },
            },
        ],
    })
}

written_schema!(
    /// An RFC 7946 geometry.
    Geometry,
    [],
    geometry_schema()
);

written_schema!(
    /// One registry item as an RFC 7946 Feature.
    Feature,
    [Geometry],
    serde_json::json!({
        "type": "object",
        "description": "One registry item as an RFC 7946 Feature.",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string", "description": "The value of the registry's id field."},
            "geometry": {
                "oneOf": [{"$ref": "#/components/schemas/Geometry"}, {"type": "null"}],
            },
            "properties": {
                "type": "object",
                "description": "Field values by name, typed as the registry's `fields` say (null: \
                    unknown); with `fields=`, only those fields.",
            },
        },
    })
);

written_schema!(
    /// Registry items as an RFC 7946 FeatureCollection.
    FeatureCollection,
    [Feature, ReleaseRef],
    serde_json::json!({
        "type": "object",
        "description": "Registry items as an RFC 7946 FeatureCollection, with the registry, \
            whether it is sample data and the release read as foreign members. A page that has \
            a next one links it in `links`.",
        "required": ["type", "registry", "sample", "release", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "registry": {"type": "string", "description": "The registry's slug."},
            "sample": {
                "type": "boolean",
                "description": "True for generated sample data.",
            },
            "release": {
                "oneOf": [{"$ref": "#/components/schemas/ReleaseRef"}, {"type": "null"}],
                "description": "The release these items were read from (null before the first \
                    import).",
            },
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
            "hint": {
                "type": "string",
                "description": "On an empty page whose `bbox` lies wholly outside the registry's \
                    items: where the items are, and the box with longitude and latitude swapped \
                    when that one would match.",
            },
            "links": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["rel", "type", "href"],
                    "properties": {
                        "rel": {"type": "string", "enum": ["next"]},
                        "type": {"type": "string", "enum": ["application/geo+json"]},
                        "href": {
                            "type": "string",
                            "description": "The next page (relative URL).",
                        },
                    },
                },
            },
        },
    })
);

const ITEMS_DESCRIPTION: &str = "Filters: any schema field as `field=value` or `field__op=value` with \
`op` one of `eq, ne, gt, gte, lt, lte, in, contains, startswith, isnull`; values are parsed by the \
field's type (see the registry's `fields[].operators`); `in` takes comma-separated values; \
`contains`/`startswith` are case-sensitive; `isnull` takes true/false; `ne` excludes nulls. Unknown \
fields, operators that do not fit the type and unparsable values are refused with 400 naming the \
parameter. At most 20 field filters per request, 100 values per `in`, 5 sort fields; the query string \
is at most 4096 bytes by default (414 beyond).";

/// List a registry's items.
///
/// JSON pages, or the same items as CSV, GeoJSON or NDJSON (`.csv`/`.geojson`/`.ndjson`,
/// `?format=`, or `Accept`). Keyset pages for every sort order. Sample registries say so in the
/// body (`sample`, `sample_note`) and in `X-Sample-Data`.
#[utoipa::path(
    tag = "registries",
    description = ITEMS_DESCRIPTION,
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        ItemQueryParams,
        ("filters" = Option<BTreeMap<String, String>>, Query, style = Form, explode,
            description = "Field filters: `field=value`, `field__op=value` (see the operation description)"),
    ),
    responses(
        (status = 200, description = "A page of items, or a complete export",
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("X-Total-Count" = i64, description = "Matching items, when counted exactly"),
                ("X-Sample-Data" = String, description = "Present when the items are generated sample data"),
                ("Content-Disposition" = String, description = "With `download=true`"),
            ),
            content(
                (ItemPage = "application/json"),
                (String = "text/csv"),
                (FeatureCollection = "application/geo+json"),
                (String = "application/x-ndjson"),
            )
        ),
    )
)]
#[get("/registries/{slug}/items")]
pub async fn list_items(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    items(req, path.into_inner(), state, None).await
}

/// A registry's items as CSV.
///
/// RFC 4180, UTF-8, CRLF. Columns: the schema fields in order (or `fields=`), then `lon`, `lat`
/// (the point, or the centroid) and `wkt` for registries with geometry. Options: `bom`,
/// `delimiter`, `header`, `download`, `neutralise_formulas`. Without `limit` the whole registry is
/// streamed.
#[utoipa::path(
    tag = "registries",
    description = ITEMS_DESCRIPTION,
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        ItemQueryParams,
        ("filters" = Option<BTreeMap<String, String>>, Query, style = Form, explode,
            description = "Field filters: `field=value`, `field__op=value` (see the operation description)"),
    ),
    responses((status = 200, description = "Items as CSV", body = String, content_type = "text/csv")),
)]
#[get("/registries/{slug}/items.csv")]
pub async fn list_items_csv(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    items(req, path.into_inner(), state, Some(Format::Csv)).await
}

/// A registry's items as an RFC 7946 GeoJSON FeatureCollection.
///
/// Registries without geometry answer 406. Without `limit` the whole registry is streamed.
#[utoipa::path(
    tag = "registries",
    description = ITEMS_DESCRIPTION,
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        ItemQueryParams,
        ("filters" = Option<BTreeMap<String, String>>, Query, style = Form, explode,
            description = "Field filters: `field=value`, `field__op=value` (see the operation description)"),
    ),
    responses((status = 200, description = "Items as GeoJSON", body = FeatureCollection, content_type = "application/geo+json")),
)]
#[get("/registries/{slug}/items.geojson")]
pub async fn list_items_geojson(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    items(req, path.into_inner(), state, Some(Format::GeoJson)).await
}

/// A registry's items as newline-delimited JSON, one item per line.
#[utoipa::path(
    tag = "registries",
    description = ITEMS_DESCRIPTION,
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        ItemQueryParams,
        ("filters" = Option<BTreeMap<String, String>>, Query, style = Form, explode,
            description = "Field filters: `field=value`, `field__op=value` (see the operation description)"),
    ),
    responses((status = 200, description = "Items as NDJSON", body = String, content_type = "application/x-ndjson")),
)]
#[get("/registries/{slug}/items.ndjson")]
pub async fn list_items_ndjson(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    items(req, path.into_inner(), state, Some(Format::NdJson)).await
}

record_params! {
    pub struct GetItemParams {
        /// Read the item as it was at this release of the registry.
        #[param(value_type = Option<i64>, minimum = 1)]
        pub release: Option<String>,
    }
}

/// Get one item by its id.
#[utoipa::path(
    tag = "registries",
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        ("item_id" = String, Path, description = "Value of the registry's id field", example = "UA68040470010096613"),
        GetItemParams,
    ),
    responses(
        (status = 200, description = "The item", body = ItemRecordDto,
            headers(("X-Sample-Data" = String, description = "Present when the item is generated sample data"))),
    )
)]
#[get("/registries/{slug}/items/{item_id}")]
pub async fn get_item(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: web::Query<GetItemParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    negotiate::from_accept(&req, &[Format::Json])?;
    let lang = negotiate::language(&req, params.lang.as_deref())?;
    let pinned = release::parse_param(params.release.as_deref())?;
    let (slug, item_id) = path.into_inner();
    let (registry, row, read_at) = run_app(&state, move |conn| {
        let registry = registries::find_schema(conn, &slug)?
            .ok_or_else(|| AppError::NotFound(format!("no registry {slug:?}")))?;
        let dataset = releases::registry_dataset(&slug);
        let read_at = match pinned {
            Some(n) => Some(releases::find(conn, &dataset, n)?.ok_or_else(|| {
                let latest = releases::latest(conn, &dataset).ok().flatten();
                release::not_found(&dataset, n, latest.as_ref())
            })?),
            None => releases::latest(conn, &dataset)?,
        };
        let row = items::select(
            conn,
            &registry.row.table_name,
            &Select {
                version: read_at
                    .as_ref()
                    .map_or(Version::Current, |r| Version::AsOf(r.number)),
                conditions: vec![items::Condition::ItemId(item_id.clone())],
                limit: Some(1),
                ..Select::default()
            },
        )?
        .pop()
        .ok_or_else(|| {
            let at = read_at
                .as_ref()
                .map_or(String::new(), |r| format!(" at release {}", r.number));
            AppError::NotFound(format!("registry {slug:?} has no item {item_id:?}{at}"))
        })?;
        Ok((registry, row, read_at))
    })
    .await?;
    let row = &row;
    let renderer = Renderer {
        registry: Arc::new(registry),
        format: Format::Json,
        fields: None,
        csv: CsvOptions::default(),
        lang,
        release: None,
    };
    let mut out = String::new();
    let stamp = read_at
        .as_ref()
        .map(|r| ReleaseRef::new(r, pinned.is_some()));
    renderer.item_record_json(row, stamp.as_ref(), &mut out);
    let mut builder = HttpResponse::Ok();
    builder.content_type("application/json");
    sample_headers(&mut builder, &renderer.registry);
    if let Some(r) = &read_at {
        release::stamp(&mut builder, r);
    }
    Ok(builder.body(out))
}
