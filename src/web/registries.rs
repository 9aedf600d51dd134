//! `/registries` and `/registries/{slug}`: the registry browser. The page takes the item
//! parameters of `GET /api/v1/registries/{slug}/items` (filters, `q`, `sort`, `limit`,
//! `cursor`, …) and reads through the same query, so the table, the map, the downloads and the
//! API call shown on the page always agree.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use crate::app::AppState;
use crate::error::AppError;
use crate::formats::Format;
use crate::formats::items::CsvOptions;
use crate::models::PageRequest;
use crate::models::lang::Lang;
use crate::models::lang::LangContext;
use crate::models::registries::geometry::GeometryKind;
use crate::models::registries::items::{
    self as registry_items, ItemParams, ItemRow, ItemsPage, ItemsRead, Texts,
};
use crate::models::registries::query::Operator;
use crate::models::registries::schema::{Field, FieldType};
use crate::models::registries::{self, Registry};
use crate::models::releases::Release;
use crate::web::i18n::{Msg, code_label, t};
use crate::web::layout::{
    Citations, Page, PageContext, paragraphs, provenance_mark, text, unknown,
};
use crate::web::render_page;

/// Rows per page when the URL does not say (the API's own default is 100).
const WEB_PAGE_SIZE: u32 = 25;
const PAGE_SIZES: [u32; 4] = [25, 50, 100, 250];

fn geometry_label(lang: Lang, kind: GeometryKind) -> &'static str {
    t(
        lang,
        match kind {
            GeometryKind::None => Msg::GeometryNone,
            GeometryKind::Point => Msg::GeometryPoint,
            GeometryKind::Line => Msg::GeometryLine,
            GeometryKind::Polygon => Msg::GeometryPolygon,
        },
    )
}

fn sample_badge(lang: Lang, sample: bool) -> Markup {
    html! {
        @if sample { span.badge.sample { (t(lang, Msg::SampleData)) } }
        @else { span.badge.real { (t(lang, Msg::RealData)) } }
    }
}

/// `GET /registries`.
pub async fn registries(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render_page(req, state, Some(&[]), |ctx, state| async move {
        let lang = ctx.lang;
        let found = state.read(|conn| {
            registries::list(conn, &PageRequest { after: None, limit: 1000 })
        })
        .await?;
        let pick = LangContext::new(lang);
        let body = html! {
            h1 { (t(lang, Msg::Registries)) }
            p.lead { (t(lang, Msg::RegistriesIntro)) }
            ul.cards {
                @for r in &found.items {
                    li.card {
                        h2 {
                            a href=(ctx.href(&format!("/registries/{}", r.slug()))) {
                                (text(lang, &pick.pick(&r.texts, "title")))
                            }
                        }
                        p { (sample_badge(lang, r.row.sample)) }
                        p { (text(lang, &pick.pick(&r.texts, "description"))) }
                        dl.facts.compact {
                            dt { (t(lang, Msg::Items)) }
                            dd { (r.row.item_count) }
                            dt { (t(lang, Msg::Geometry)) }
                            dd { (geometry_label(lang, r.geometry)) }
                            dt { (t(lang, Msg::License)) }
                            dd {
                                @match &r.row.license { Some(l) => (l), None => (unknown(lang)) }
                                (provenance_mark(lang, &r.provenance, "license", &Citations::new([])))
                            }
                            dt { (t(lang, Msg::UpdateFrequency)) }
                            dd { @match &r.row.update_frequency { Some(f) => (code_label(lang, f)), None => (unknown(lang)) } }
                        }
                    }
                }
            }
        };
        Ok(Page {
            title: t(lang, Msg::Registries).to_owned(),
            api: format!("/api/v1/registries?lang={lang}"),
            body,
            map: false,
        })
    })
    .await
}

/// `GET /registries/{slug}`.
pub async fn registry(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> HttpResponse {
    // A submitted filter form sends its empty fields too: answer with the same query without
    // them, so every URL of the page is one the API takes as it is.
    if let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        && pairs.iter().any(|(_, v)| v.is_empty())
    {
        let kept: Vec<(String, String)> =
            pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("{}?{query}", req.path())))
            .finish();
    }
    let slug = slug.into_inner();
    render_page(req, state, None, |ctx, state| async move {
        let lang = ctx.lang;
        let mut params = ctx.params.clone();
        if !params.iter().any(|(k, _)| k == "limit") {
            params.push(("limit".into(), WEB_PAGE_SIZE.to_string()));
        }
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        let page = browse_items(&state, slug.clone(), &query).await?;
        let api = format!("/api/v1/registries/{slug}/items?{query}&lang={lang}");
        let title = LangContext::new(lang)
            .pick(&page.registry.texts, "title")
            .map_or_else(|| slug.clone(), |t| t.value);
        let has_map = page.registry.geometry != GeometryKind::None;
        let body = registry_body(&ctx, &state, &page, &params);
        Ok(Page {
            title,
            api,
            body,
            map: has_map,
        })
    })
    .await
}

/// A page of the registry browser: read with the parameters, parsing and query of
/// `GET /registries/{slug}/items` (JSON), so a page and its API call always agree.
struct BrowsedPage {
    /// The registry with all its texts (field labels for the table header).
    registry: Registry,
    release: Option<Release>,
    page: ItemsPage,
    /// The item's properties, in the order of `page.items`.
    properties: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl BrowsedPage {
    fn items(
        &self,
    ) -> impl Iterator<Item = (&ItemRow, &serde_json::Map<String, serde_json::Value>)> {
        self.page.items.iter().zip(&self.properties)
    }
}

/// Reads one page of items for `/registries/{slug}`: `query_string` is the page's own, which
/// takes the item parameters of the JSON API (and `lang`).
async fn browse_items(
    state: &AppState,
    slug: String,
    query_string: &str,
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
    CsvOptions::from_params(&params, Format::Json)?;
    let request = registry_items::ItemRequest {
        texts: Texts::All,
        ..params.request(slug, Some(WEB_PAGE_SIZE))?
    };
    let counts = state.item_counts.clone();
    let ItemsRead {
        registry,
        query,
        release,
        page,
        ..
    } = state
        .read(move |conn| -> Result<_, AppError> {
            Ok(registry_items::read(conn, &request, &counts)?)
        })
        .await?;
    let page = page.unwrap_or_default();
    // Fields left out with `fields=` show as unknown, as the API leaves them out.
    let properties = page
        .items
        .iter()
        .map(|row| {
            let mut stored: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&row.data).unwrap_or_default();
            if let Some(chosen) = &query.fields {
                stored.retain(|name, _| chosen.contains(name));
            }
            stored
        })
        .collect();
    Ok(BrowsedPage {
        registry,
        release,
        page,
        properties,
    })
}

/// The value of a query parameter of the page.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn registry_body(
    ctx: &PageContext,
    state: &AppState,
    page: &BrowsedPage,
    params: &[(String, String)],
) -> Markup {
    let lang = ctx.lang;
    let r = &page.registry;
    let slug = r.slug();
    let pick = LangContext::new(lang);
    let cites = Citations::new(r.sources.iter());
    // The filters without paging: what downloads and the first page keep.
    let filters: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "cursor" && k != "limit")
        .cloned()
        .collect();
    let with = |extra: &[(&str, &str)]| {
        let mut pairs: Vec<(String, String)> = filters.clone();
        pairs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    };
    let items_url = format!("/api/v1/registries/{slug}/items");
    let lang_code = lang.code();
    let downloads: Vec<(Msg, String)> = [
        Some((
            Msg::DownloadCsv,
            format!("{items_url}.csv?{}", with(&[("download", "true")])),
        )),
        Some((
            Msg::DownloadExcel,
            format!(
                "{items_url}.csv?{}",
                with(&[
                    ("bom", "true"),
                    ("delimiter", "semicolon"),
                    ("header", "labels"),
                    ("lang", lang_code),
                    ("download", "true")
                ])
            ),
        )),
        (r.geometry != GeometryKind::None).then(|| {
            (
                Msg::DownloadGeoJson,
                format!("{items_url}.geojson?{}", with(&[("download", "true")])),
            )
        }),
        Some((
            Msg::DownloadNdJson,
            format!("{items_url}.ndjson?{}", with(&[("download", "true")])),
        )),
    ]
    .into_iter()
    .flatten()
    .collect();
    let sort = param(params, "sort");
    let fields: Vec<&Field> = r.fields.iter().collect();
    let label = |f: &Field| {
        r.field_texts
            .get(&f.name)
            .and_then(|texts| pick.pick(texts, "label"))
    };
    let next = page.page.next_cursor.as_ref().map(|cursor| {
        let mut pairs: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != "cursor")
            .cloned()
            .collect();
        pairs.push(("cursor".into(), cursor.clone()));
        ctx.with_params(&pairs)
    });
    let first_page = param(params, "cursor").map(|_| {
        let pairs: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != "cursor")
            .cloned()
            .collect();
        ctx.with_params(&pairs)
    });
    let field_filters_set = params.iter().any(|(k, _)| {
        fields
            .iter()
            .any(|f| k == &f.name || k.starts_with(&format!("{}__", f.name)))
    });
    html! {
        p.eyebrow { a href=(ctx.href("/registries")) { (t(lang, Msg::Registries)) } " › " (slug) }
        h1 { (text(lang, &pick.pick(&r.texts, "title"))) }
        @if r.row.sample {
            div.sample-notice role="note" {
                // The registry's own note says what the sample stands for; the generic warning only
                // when it has none.
                p {
                    strong { (t(lang, Msg::SampleData)) ": " }
                    @match pick.pick(&r.texts, "sample_note") {
                        Some(note) => (text(lang, &Some(note))),
                        None => (t(lang, Msg::SampleWarning)),
                    }
                }
            }
        }
        (paragraphs(lang, &pick.pick(&r.texts, "description"), &cites))
        details.passport {
            summary { (t(lang, Msg::Description)) " · " (t(lang, Msg::License)) " · " (t(lang, Msg::Schema)) }
            dl.facts {
                dt { (t(lang, Msg::Keywords)) }
                dd { (text(lang, &pick.pick(&r.texts, "keywords"))) }
                dt { (t(lang, Msg::Purpose)) }
                dd { (text(lang, &pick.pick(&r.texts, "purpose"))) }
                dt { (t(lang, Msg::License)) }
                dd {
                    @match (&r.row.license, &r.row.license_url) {
                        (Some(l), Some(url)) => a href=(url) { (l) },
                        (Some(l), None) => (l),
                        _ => (unknown(lang)),
                    }
                    (provenance_mark(lang, &r.provenance, "license", &cites))
                }
                dt { (t(lang, Msg::UpdateFrequency)) }
                dd { @match &r.row.update_frequency { Some(f) => (code_label(lang, f)), None => (unknown(lang)) } }
                dt { (t(lang, Msg::Publisher)) }
                dd { @match &r.row.publisher_id { Some(p) => a href=(ctx.href(&format!("/institutions/{p}"))) { (p) }, None => (unknown(lang)) } }
                dt { (t(lang, Msg::Contact)) }
                dd {
                    @match (&r.row.contact_name, &r.row.contact_email) {
                        (None, None) => (unknown(lang)),
                        (name, email) => {
                            @if let Some(n) = name { (n) " " }
                            @if let Some(e) = email { a href={ "mailto:" (e) } { (e) } }
                        }
                    }
                }
                dt { (t(lang, Msg::Modified)) }
                dd { @match &r.row.modified { Some(m) => (m), None => (unknown(lang)) } }
                dt { (t(lang, Msg::Release)) }
                dd {
                    @match &page.release {
                        Some(rel) => { a href={ "/api/v1/registries/" (slug) "/releases/" (rel.number) } { (rel.number) } " (" (rel.created_at) ")" }
                        None => (unknown(lang)),
                    }
                }
                @if let Some(c) = &r.row.related_commitment_id {
                    dt { (t(lang, Msg::RelatedCommitment)) }
                    dd {
                        a href=(ctx.href(&format!("/commitments/{c}"))) { (c) }
                        (provenance_mark(lang, &r.provenance, "related_commitment_id", &cites))
                    }
                }
                dt { (t(lang, Msg::Geometry)) }
                dd { (geometry_label(lang, r.geometry)) }
                dt { (t(lang, Msg::Sources)) }
                dd { (cites.cite_all(lang, &r.sources)) }
            }
            div.table-scroll role="region" aria-label=(t(lang, Msg::Schema)) tabindex="0" {
                table.schema {
                    caption { (t(lang, Msg::Schema)) }
                    thead { tr {
                        th scope="col" { (t(lang, Msg::FieldName)) }
                        th scope="col" { (t(lang, Msg::Title)) }
                        th scope="col" { (t(lang, Msg::FieldType)) }
                        th scope="col" { (t(lang, Msg::Description)) }
                    } }
                    tbody {
                        @for f in &fields {
                            tr {
                                td { code { (f.name) } }
                                td { (text(lang, &label(f))) }
                                td { (f.kind.as_str()) @if let Some(u) = &f.unit { " (" (u) ")" } }
                                td { (text(lang, &r.field_texts.get(&f.name).and_then(|x| pick.pick(x, "description")))) }
                            }
                        }
                    }
                }
            }
        }

        section aria-labelledby="filter-heading" {
            h2 #filter-heading { (t(lang, Msg::Filter)) }
            form #filter method="get" action={ "/registries/" (slug) } {
                input type="hidden" name="lang" value=(lang_code);
                @if let Some(s) = sort { input type="hidden" name="sort" value=(s); }
                div.field {
                    label for="filter-q" { (t(lang, Msg::Search)) }
                    input #filter-q type="search" name="q" value=[param(params, "q")] aria-describedby="filter-q-hint";
                    span id="filter-q-hint" class="hint" { (t(lang, Msg::SearchHint)) }
                }
                details.field-filters open[field_filters_set] {
                    summary { (t(lang, Msg::MoreFilters)) }
                    div.filter-grid {
                        @for f in &fields { (field_filter(lang, f, &label(f), params)) }
                    }
                }
                div.field {
                    label for="filter-limit" { (t(lang, Msg::PageSize)) }
                    select #filter-limit name="limit" {
                        @for size in PAGE_SIZES {
                            option value=(size) selected[page.page.limit == size] { (size) }
                        }
                        @if !PAGE_SIZES.contains(&page.page.limit) {
                            option value=(page.page.limit) selected { (page.page.limit) }
                        }
                    }
                }
                div.actions {
                    button type="submit" { (t(lang, Msg::Apply)) }
                    " "
                    a.button.secondary href=(ctx.href(&format!("/registries/{slug}"))) { (t(lang, Msg::Reset)) }
                }
            }
        }

        section aria-labelledby="results-heading" {
            h2 #results-heading { (t(lang, Msg::Items)) }
            p #item-count data-count=(page.page.total) role="status" {
                (t(lang, Msg::Matching)) ": "
                @if !page.page.total_exact { (t(lang, Msg::AtLeast)) " " }
                strong { (page.page.total) }
            }
            div.downloads {
                h3 { (t(lang, Msg::Download)) }
                ul {
                    @for (msg, href) in &downloads {
                        li { a.download href=(href) download { (t(lang, *msg)) } }
                    }
                }
                p.hint { (t(lang, Msg::DownloadsFilteredNote)) }
            }
            @if r.geometry != GeometryKind::None {
                // A map of nothing helps no one: say so instead.
                @if page.page.items.iter().all(|item| item.geometry.is_none()) {
                    p.hint { (t(lang, Msg::MapNoGeometry)) }
                } @else {
                    (map_section(lang, state, slug, params))
                }
            }
            @if page.page.items.is_empty() {
                p.empty { (t(lang, Msg::NoItems)) }
            }
            div.table-scroll role="region" aria-labelledby="items-caption" tabindex="0" {
                table #items {
                    caption #items-caption { (t(lang, Msg::ItemsTableCaption)) " — " (text(lang, &pick.pick(&r.texts, "title"))) }
                    thead {
                        tr {
                            @for f in &fields {
                                (sort_header(ctx, f, &label(f), sort, params))
                            }
                        }
                    }
                    tbody {
                        @for (item, properties) in page.items() {
                            tr {
                                @for f in &fields {
                                    td class=[(f.name == r.row.id_field).then_some("id")] { (cell(lang, properties.get(&f.name).unwrap_or(&serde_json::Value::Null), f, slug, item, &r.row.id_field)) }
                                }
                            }
                        }
                    }
                }
            }
            nav.pager aria-label=(t(lang, Msg::Items)) {
                @if let Some(first) = &first_page { a href=(first) { "« " (t(lang, Msg::FirstPage)) } " " }
                @if let Some(next) = &next { a rel="next" href=(next) { (t(lang, Msg::NextPage)) " »" } }
            }
        }
        (cites.section(lang))
    }
}

/// A column header whose link sorts by the field (ascending first, then descending).
fn sort_header(
    ctx: &PageContext,
    f: &Field,
    label: &Option<crate::models::lang::LocalizedText>,
    sort: Option<&str>,
    params: &[(String, String)],
) -> Markup {
    let lang = ctx.lang;
    let ascending = sort == Some(f.name.as_str());
    let descending = sort.is_some_and(|s| s.strip_prefix('-') == Some(f.name.as_str()));
    let next_sort = if ascending {
        format!("-{}", f.name)
    } else {
        f.name.clone()
    };
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "sort" && k != "cursor")
        .cloned()
        .collect();
    pairs.push(("sort".into(), next_sort));
    let aria_sort = if ascending {
        Some("ascending")
    } else if descending {
        Some("descending")
    } else {
        None
    };
    let action = if ascending {
        Msg::SortDescending
    } else {
        Msg::SortAscending
    };
    html! {
        th scope="col" aria-sort=[aria_sort] {
            a href=(ctx.with_params(&pairs)) {
                @match label { Some(l) => (text(lang, &Some(l.clone()))), None => (f.name) }
                span.visually-hidden { " (" (t(lang, action)) ")" }
                @if ascending { span aria-hidden="true" { " ▲" } }
                @if descending { span aria-hidden="true" { " ▼" } }
            }
        }
    }
}

/// The inputs filtering one field, named as the API's field filters.
fn field_filter(
    lang: Lang,
    f: &Field,
    label: &Option<crate::models::lang::LocalizedText>,
    params: &[(String, String)],
) -> Markup {
    let name = &f.name;
    let caption =
        html! { @match label { Some(l) => (text(lang, &Some(l.clone()))), None => (name) } };
    let id = |suffix: &str| format!("filter-{name}{suffix}");
    html! {
        @if let Some(values) = &f.allowed_values {
            div.field {
                label for=(id("")) { (caption) }
                select id=(id("")) name=(name) {
                    option value="" { (t(lang, Msg::Any)) }
                    @for v in values { option value=(v) selected[param(params, name) == Some(v.as_str())] { (v) } }
                }
            }
        } @else if f.kind == FieldType::Boolean {
            div.field {
                label for=(id("")) { (caption) }
                select id=(id("")) name=(name) {
                    option value="" { (t(lang, Msg::Any)) }
                    option value="true" selected[param(params, name) == Some("true")] { (t(lang, Msg::Yes)) }
                    option value="false" selected[param(params, name) == Some("false")] { (t(lang, Msg::No)) }
                }
            }
        } @else if Operator::Gte.applies_to(f.kind) {
            @let input_type = match f.kind { FieldType::Date => "date", FieldType::Integer => "number", _ => "text" };
            fieldset.field.range {
                legend { (caption) }
                @for (op, word) in [("gte", Msg::From), ("lte", Msg::To)] {
                    @let param_name = format!("{name}__{op}");
                    label for=(id(&format!("-{op}"))) { (t(lang, word)) }
                    input id=(id(&format!("-{op}"))) type=(input_type) name=(param_name)
                        inputmode=[(f.kind == FieldType::Decimal).then_some("decimal")]
                        value=[param(params, &param_name)];
                }
            }
        } @else if Operator::Contains.applies_to(f.kind) {
            @let param_name = format!("{name}__contains");
            div.field {
                label for=(id("")) { (caption) " " span.hint { "(" (t(lang, Msg::Contains)) ")" } }
                input id=(id("")) type="text" name=(param_name) value=[param(params, &param_name)];
            }
        }
    }
}

/// One table cell: the value as the API gives it; null is shown as unknown; the id links to the
/// item in the API.
fn cell(
    lang: Lang,
    value: &serde_json::Value,
    f: &Field,
    slug: &str,
    item: &ItemRow,
    id_field: &str,
) -> Markup {
    use serde_json::Value;
    let shown = match value {
        Value::Null => return unknown(lang),
        Value::String(s) => s.clone(),
        Value::Bool(b) => t(lang, if *b { Msg::Yes } else { Msg::No }).to_owned(),
        other => other.to_string(),
    };
    if f.name == id_field {
        let id = &item.item_id;
        return html! {
            a href={ "/api/v1/registries/" (slug) "/items/" (urlencoding(id)) } { (shown) }
        };
    }
    html! { (shown) }
}

fn urlencoding(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The map: Leaflet draws the items of this page from the GeoJSON API call with the same
/// parameters; without tiles (or when they fail) the items are still drawn.
fn map_section(lang: Lang, state: &AppState, slug: &str, params: &[(String, String)]) -> Markup {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    let tiles = state.web.map_tiles.as_ref();
    html! {
        section.map-section aria-labelledby="map-heading" {
            h3 #map-heading { (t(lang, Msg::MapOfPage)) }
            div #map role="region" aria-label=(t(lang, Msg::MapOfPage))
                data-geojson={ "/api/v1/registries/" (slug) "/items.geojson?" (query) }
                data-tiles=[tiles.map(|t| t.url.as_str())]
                data-attribution=[tiles.map(|t| t.attribution.as_str())] {}
            @if tiles.is_none() { p.hint { (t(lang, Msg::MapTilesOff)) } }
            noscript { p { (t(lang, Msg::MapNoScript)) } }
        }
    }
}
