//! `/api/v1/registries`: datasets with their passport and schema, and their items as JSON, CSV,
//! GeoJSON and NDJSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::dto::classified_cell;
use crate::api::dto::{
    DateValue, ListBody, RecordLinks, SourceRef, date, provenance, source_refs, text_cells,
};
use crate::api::items::stream_export;
use crate::api::openapi::written_schema;
use crate::api::pagination;
use crate::api::params::{list_params, record_params};
use crate::api::release::ReleaseRef;
use crate::api::respond::{self, CsvRecord, Listing};
use crate::app::{AppState, ReadAt};
use crate::error::AppError;
use crate::formats::csv::{self, Cell};
use crate::formats::items::{CsvOptions, PageEnvelope, Renderer};
use crate::http::negotiate::{self, Format, LangContext};
use crate::models::lang::{Lang, LocalizedText};
use crate::models::provenance::{FieldProvenance, FieldProvenances};
use crate::models::registries::geometry::GeometryKind;
use crate::models::registries::items::{
    self as registry_items, ItemParams, ItemRequest, ItemsRead, Texts,
};
pub use crate::models::registries::items::{
    CountName, CsvHeaderName, DelimiterName, ItemFormatName, ItemQueryParams,
};
use crate::models::registries::query::Operator;
use crate::models::registries::schema::FieldType;
use crate::models::registries::{self, Registry};
use crate::models::releases::Release;
use crate::models::vocab::{UpdateFrequency, parse_stored};

/// Formats of registry items.
const ITEM_FORMATS: &[Format] = &[Format::Json, Format::Csv, Format::GeoJson, Format::NdJson];

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
    let found = state
        .read(move |conn| registries::list(conn, &page))
        .await?;
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
    let found = state
        .read(move |conn| registries::find(conn, &lookup))
        .await?;
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
    let lang = negotiate::language(&req, params.get("lang"))?;
    let csv = CsvOptions::from_params(&params, format)?;
    // JSON is paged (100 by default); the other formats without `limit` are complete exports.
    let default_limit = (format == Format::Json).then_some(pagination::DEFAULT_LIMIT);
    let request = ItemRequest {
        // Texts cost queries: field labels only for CSV `header=labels`, the sample notice only
        // for JSON pages.
        texts: if csv.labels {
            Texts::All
        } else if format == Format::Json {
            Texts::SampleNote
        } else {
            Texts::None
        },
        needs_geometry: format == Format::GeoJson,
        ..params.request(slug, default_limit)?
    };
    let pinned = request.release.is_some();
    let counts = state.item_counts.clone();
    let (read, held) = state
        .read_and_hold(move |conn| registry_items::read(conn, &request, &counts))
        .await?;
    let ItemsRead {
        registry,
        query,
        select,
        release,
        page,
    } = read;
    let renderer = Renderer {
        registry: Arc::new(registry),
        format,
        fields: query.fields,
        csv,
        lang,
        release: release.as_ref().map(|r| ReleaseRef::new(r, pinned)),
    };
    let mut builder = item_headers(format, &renderer.registry, release.as_ref(), download);
    let Some(page) = page else {
        // A complete export, streamed from a blocking thread through a small bounded channel on
        // the connection already taken (so an outage was a 503 before any byte was sent).
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        actix_web::rt::task::spawn_blocking(move || stream_export(held, renderer, select, tx));
        let body = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        return Ok(builder.streaming(body));
    };
    drop(held);
    let next = page
        .next_cursor
        .as_deref()
        .map(|c| respond::next_link(&req, c));
    if let Some(next) = &next {
        builder.append_header((header::LINK, format!("<{next}>; rel=\"next\"")));
    }
    if page.total_exact {
        builder.insert_header(("X-Total-Count", page.total.to_string()));
    }
    let sample_note = (format == Format::Json && renderer.registry.row.sample)
        .then(|| LangContext::new(lang).pick(&renderer.registry.texts, "sample_note"))
        .flatten();
    if let Some(note) = &sample_note {
        builder.insert_header((header::CONTENT_LANGUAGE, note.lang.code()));
    }
    let self_link = respond::self_link(&req);
    let body = renderer.page(
        &page.items,
        &PageEnvelope {
            sample_note: sample_note.as_ref(),
            total: page.total,
            total_exact: page.total_exact,
            limit: page.limit,
            next_cursor: page.next_cursor.as_deref(),
            self_link: &self_link,
            next_link: next.as_deref(),
            hint: page.hint.as_deref(),
        },
    );
    Ok(builder.body(body))
}

/// The headers of an items response: media type, sample data, the release read, the CSVW link
/// of a CSV and, for a download, its file name.
fn item_headers(
    format: Format,
    registry: &Registry,
    release: Option<&Release>,
    download: bool,
) -> HttpResponseBuilder {
    let mut builder = HttpResponse::Ok();
    builder
        .content_type(format.media_type())
        .insert_header((header::VARY, "Accept, Accept-Language, Accept-Encoding"));
    sample_headers(&mut builder, registry);
    if let Some(r) = release {
        crate::http::release::stamp(&mut builder, r);
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
    if download {
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
    builder
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
    let pinned = crate::http::release::parse_param(params.release.as_deref())?;
    let (slug, item_id) = path.into_inner();
    let (registry, row, read_at) = state
        .read(move |conn| -> Result<_, AppError> {
            Ok(registry_items::find_one(conn, &slug, &item_id, pinned)?)
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
        crate::http::release::stamp(&mut builder, r);
    }
    Ok(builder.body(out))
}
