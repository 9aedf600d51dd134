//! The page shell every web page shares (landmarks, language switch, the matching API call) and
//! small pieces of markup: texts with their language, source citations, unknown values.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use maud::{DOCTYPE, Markup, html};

use crate::app::WebOptions;
use crate::error::AppError;
use crate::http::negotiate::LangContext;
use crate::models::lang::{Lang, LocalizedText, Wording};
use crate::models::progress::ProgressUpdate;
use crate::models::provenance::{FieldProvenance, FieldProvenances};
use crate::models::sources::Source;
use crate::web::i18n::{Msg, endonym, t};

/// What every page knows about its request: the language and the query it was asked with.
#[derive(Debug, Clone)]
pub struct PageContext {
    pub lang: Lang,
    pub path: String,
    /// The query parameters other than `lang`, in request order.
    pub params: Vec<(String, String)>,
    /// `scheme://host` as the client sees it, for copyable curl commands.
    pub base: String,
}

impl PageContext {
    /// Reads `lang` (else `Accept-Language`) and the other parameters; `allowed` names the
    /// parameters this page takes (`None`: any, checked later by the page).
    pub fn of(
        req: &HttpRequest,
        allowed: Option<&[&str]>,
    ) -> Result<PageContext, (Lang, AppError)> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).map_err(|e| {
                (
                    fallback_lang(req),
                    AppError::InvalidParameter {
                        parameter: None,
                        detail: format!("malformed query string: {e}"),
                    },
                )
            })?;
        let mut lang_param = None;
        let mut params = Vec::new();
        for (key, value) in pairs {
            if key == "lang" {
                if lang_param.replace(value).is_some() {
                    return Err((
                        fallback_lang(req),
                        AppError::invalid("lang", "is given more than once"),
                    ));
                }
            } else {
                params.push((key, value));
            }
        }
        let lang = crate::http::negotiate::language(req, lang_param.as_deref())
            .map_err(|e| (fallback_lang(req), e))?;
        if let Some(allowed) = allowed
            && let Some((key, _)) = params.iter().find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            return Err((
                lang,
                AppError::invalid(
                    key.clone(),
                    match allowed {
                        [] => "is not a parameter of this page (it takes only lang)".to_owned(),
                        _ => format!(
                            "is not a parameter of this page (it takes lang, {})",
                            allowed.join(", ")
                        ),
                    },
                ),
            ));
        }
        Ok(PageContext {
            lang,
            path: req.path().to_owned(),
            params,
            base: crate::http::public_base(req),
        })
    }

    /// A link to another page of the site, in this page's language.
    pub fn href(&self, path: &str) -> String {
        link(path, &[], self.lang)
    }

    /// This page in another language (everything else kept).
    pub fn in_language(&self, lang: Lang) -> String {
        link(&self.path, &self.params, lang)
    }

    /// This page with `params` instead of its own (language kept).
    pub fn with_params(&self, params: &[(String, String)]) -> String {
        link(&self.path, params, self.lang)
    }
}

/// `path?…&lang=xx`: the language always last, so it is easy to spot and edit.
fn link(path: &str, params: &[(String, String)], lang: Lang) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.push(("lang", lang.code()));
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

/// The language of an error page when the request's own `lang` was the error.
fn fallback_lang(req: &HttpRequest) -> Lang {
    crate::http::negotiate::language(req, None).unwrap_or(Lang::En)
}

/// One page: its title, main content and the API call that gives the same data.
pub struct Page {
    pub title: String,
    /// The API path (with query) that serves this page's data.
    pub api: String,
    pub body: Markup,
    /// Leaflet and the map script, for pages with a map.
    pub map: bool,
}

/// The whole HTML document.
pub fn document(ctx: &PageContext, page: &Page) -> Markup {
    let lang = ctx.lang;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) " — " (t(lang, Msg::SiteName)) }
                // No icon yet: without this line every browser asks for /favicon.ico and logs its 404.
                link rel="icon" href="data:,";
                // Leaflet's stylesheet first, so the site's rules can adjust it.
                @if page.map {
                    link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css";
                }
                link rel="stylesheet" href="/static/site.css";
                @if page.map {
                    script src="/static/vendor/leaflet/leaflet.js" defer {}
                    script src="/static/map.js" defer {}
                }
                link rel="alternate" type="application/json" href=(page.api);
            }
            body {
                a.skip href="#main" { (t(lang, Msg::SkipToContent)) }
                header.site {
                    div.wrap {
                        a.brand href=(ctx.href("/")) { (t(lang, Msg::SiteName)) }
                        nav aria-label=(t(lang, Msg::MainNavigation)) {
                            ul {
                                li { a href=(ctx.href("/")) { (t(lang, Msg::NavPlan)) } }
                                li { a href=(ctx.href("/registries")) { (t(lang, Msg::NavRegistries)) } }
                                li { a href="/docs/" { (t(lang, Msg::NavApiDocs)) } }
                            }
                        }
                        nav #language aria-label=(t(lang, Msg::LanguageNavigation)) {
                            ul {
                                @for other in Lang::ALL {
                                    li {
                                        a href=(ctx.in_language(other)) hreflang=(other.code()) lang=(other.code())
                                            aria-current=[(other == lang).then_some("true")] {
                                            (endonym(other))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    div.wrap {
                        (page.body)
                        (api_box(ctx, &page.api))
                    }
                }
                footer.site {
                    div.wrap {
                        p { (t(lang, Msg::FooterData)) }
                        p {
                            a href="/api/v1" { "/api/v1" } " · "
                            a href="/docs/" { (t(lang, Msg::NavApiDocs)) } " · "
                            a href="/api/v1/catalog.jsonld" { "DCAT-AP" } " · "
                            a href="/api/v1/feeds/plan.atom" { "Atom" }
                        }
                    }
                }
            }
        }
    }
}

/// The API call that gives this page's data, as a link and as a curl command.
fn api_box(ctx: &PageContext, api: &str) -> Markup {
    let lang = ctx.lang;
    html! {
        aside.api aria-labelledby="api-heading" {
            h2 #api-heading { (t(lang, Msg::ThisPageAsData)) }
            p { a.api-link href=(api) { code { "GET " (api) } } }
            p {
                (t(lang, Msg::TryIt)) ": "
                code.curl { "curl -s '" (ctx.base) (api) "'" }
            }
        }
    }
}

/// An HTML answer with the headers every page carries.
pub fn respond(
    ctx: &PageContext,
    status: StatusCode,
    options: &WebOptions,
    markup: Markup,
) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_LANGUAGE, ctx.lang.code()))
        .insert_header((header::VARY, "Accept-Language, Accept-Encoding"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            options.content_security_policy(),
        ))
        .body(markup.into_string())
}

/// An error as an HTML page (the same title and detail as the API's problem document).
pub fn error_page(
    req: &HttpRequest,
    lang: Lang,
    options: &WebOptions,
    error: &AppError,
) -> HttpResponse {
    let status = error.status_code();
    // Logs internal errors and outages as the API does.
    let _ = error.error_response();
    let problem = error.to_problem(None);
    let heading = match status {
        StatusCode::NOT_FOUND => t(lang, Msg::NotFoundTitle),
        StatusCode::BAD_REQUEST => t(lang, Msg::BadRequestTitle),
        StatusCode::SERVICE_UNAVAILABLE => t(lang, Msg::UnavailableTitle),
        _ => t(lang, Msg::ErrorTitle),
    };
    let ctx = PageContext {
        lang,
        path: req.path().to_owned(),
        params: Vec::new(),
        base: crate::http::public_base(req),
    };
    let body = html! {
        h1 { (heading) }
        div.problem role="alert" {
            p { strong { (problem.status) " " (problem.title) } }
            @if let Some(detail) = &problem.detail { p lang="en" { (detail) } }
        }
        p { a href=(ctx.href("/")) { (t(lang, Msg::BackHome)) } }
    };
    let page = Page {
        title: heading.to_owned(),
        api: "/api/v1".into(),
        body,
        map: false,
    };
    let mut response = respond(&ctx, status, options, document(&ctx, &page));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    response
}

/// A data text in the page's language, or marked with the language it is written in; unknown
/// when no language has it.
pub fn text(lang: Lang, value: &Option<LocalizedText>) -> Markup {
    match value {
        None => unknown(lang),
        Some(v) if v.fallback => html! {
            span lang=(v.lang.code()) { (v.value) }
            " " span.fallback { "(" (endonym(v.lang)) ")" }
            (wording_mark(lang, v.wording))
        },
        Some(v) => html! { (v.value) (wording_mark(lang, v.wording)) },
    }
}

/// " (the project's summary)" or " (the project's wording)" after a text that is not its
/// source's own words; nothing otherwise.
pub fn wording_mark(lang: Lang, wording: Wording) -> Markup {
    let label = match wording {
        Wording::Source => return html! {},
        Wording::Summary => t(lang, Msg::SummaryWording),
        Wording::Project => t(lang, Msg::ProjectWording),
    };
    html! { " " span.wording { "(" (label) ")" } }
}

/// After a value: " (the project's classification)" with what it is based on, when the record
/// marks `field` as classified; `[n]` when a source of its own states it; nothing otherwise (the
/// record's own citations cover it).
pub fn provenance_mark(
    lang: Lang,
    fields: &FieldProvenances,
    field: &str,
    cites: &Citations,
) -> Markup {
    match fields.get(field) {
        None => html! {},
        Some(FieldProvenance::Source(id)) => cites.cite(lang, Some(id)),
        Some(FieldProvenance::Classified(basis)) => html! {
            " " span.classified title=(basis) {
                "(" (t(lang, Msg::Classified)) ")"
                span.visually-hidden lang="en" { ": " (basis) }
            }
        },
    }
}

/// A long data text: one paragraph per line, in its own language, with its source.
pub fn paragraphs(lang: Lang, value: &Option<LocalizedText>, cites: &Citations) -> Markup {
    match value {
        None => html! { p { (unknown(lang)) } },
        Some(v) => html! {
            div.text lang=[v.fallback.then_some(v.lang.code())] {
                @for line in v.value.lines().filter(|l| !l.trim().is_empty()) { p { (line) } }
            }
            p.text-meta {
                @if v.fallback { span.fallback { "(" (endonym(v.lang)) ")" } " " }
                (cites.cite(lang, v.source.as_deref()))
                (wording_mark(lang, v.wording))
            }
        },
    }
}

/// One progress update in a list: the event's date, the claim, the report's date, the marks of
/// whatever the project classified (such as its link to a goal), and the citations.
pub fn progress_update(
    lang: Lang,
    pick: &LangContext,
    u: &ProgressUpdate,
    cites: &Citations,
) -> Markup {
    html! {
        @if let Some(d) = &u.row.occurred {
            time { (d) } (provenance_mark(lang, &u.fields, "occurred", cites)) ": "
        }
        (text(lang, &pick.pick(&u.texts, "claim")))
        @if let Some(d) = &u.row.reported_on {
            " (" (t(lang, Msg::Reported)) " " time { (d) }
            (provenance_mark(lang, &u.fields, "reported_on", cites)) ")"
        }
        @for link in ["plan_id", "commitment_id", "milestone_id"] {
            (provenance_mark(lang, &u.fields, link, cites))
        }
        (cites.cite_all(lang, &u.sources))
    }
}

/// "unknown", visibly different from a value.
pub fn unknown(lang: Lang) -> Markup {
    html! { span.unknown { (t(lang, Msg::Unknown)) } }
}

/// The sources of a page, numbered; facts cite them as `[n]`, linking to the list, which links
/// to the documents.
pub struct Citations<'a> {
    list: Vec<&'a Source>,
}

impl<'a> Citations<'a> {
    pub fn new(sources: impl IntoIterator<Item = &'a Source>) -> Self {
        let mut list: Vec<&Source> = Vec::new();
        for source in sources {
            if !list.iter().any(|s| s.id == source.id) {
                list.push(source);
            }
        }
        Citations { list }
    }

    /// `[n]` for one source id (a source not in the list links to its API record).
    pub fn cite(&self, lang: Lang, id: Option<&str>) -> Markup {
        let Some(id) = id else {
            return html! {};
        };
        match self.list.iter().position(|s| s.id == id) {
            Some(i) => html! {
                a.cite href={ "#source-" (id) } aria-label={ (t(lang, Msg::Source)) " " (i + 1) ": " (self.list[i].title) } {
                    "[" (i + 1) "]"
                }
            },
            None => html! {
                a.cite href={ "/api/v1/sources/" (id) } { "[" (id) "]" }
            },
        }
    }

    /// Citations of every source of a record.
    pub fn cite_all(&self, lang: Lang, sources: &[Source]) -> Markup {
        html! {
            @for s in sources { (self.cite(lang, Some(&s.id))) }
        }
    }

    /// The numbered list the citations point to.
    pub fn section(&self, lang: Lang) -> Markup {
        html! {
            section aria-labelledby="sources-heading" {
                h2 #sources-heading { (t(lang, Msg::Sources)) }
                ol.sources {
                    @for s in &self.list {
                        li id={ "source-" (s.id) } {
                            @match &s.url {
                                Some(url) => a href=(url) hreflang=(s.lang) { (s.title) },
                                None => span { (s.title) },
                            }
                            @if let Some(publisher) = &s.publisher { " — " (publisher) }
                            @if let Some(file) = &s.seed_file { " (" code { (file) } ")" }
                            " " a.api-source href={ "/api/v1/sources/" (s.id) } { code { (s.id) } }
                        }
                    }
                }
            }
        }
    }
}
