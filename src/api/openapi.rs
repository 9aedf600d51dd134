//! The OpenAPI document. `super::routes` registers every route once, for the server and for the
//! document alike; `openapi()` takes the paths utoipa collects from those registrations and
//! finishes them: the bearer scheme, the error responses and the caching headers every operation
//! shares (each defined once in `components` and referenced), and then every parameter or
//! response header that still repeats moves to `components` too.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::App;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{self as oa, RefOr};
use utoipa_actix_web::AppExt;

use crate::api::{params, v1};
use crate::error::{PROBLEM_JSON, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "opengov-api",
        description = "Open data of an Open Government Partnership (OGP) Local action plan — the plan, \
its commitments, milestones, institutions and sources — first for Khmelnytskyi, Ukraine (2021–2025).\n\n\
* Every collection is JSON or CSV: a `.csv` path, `?format=csv`, or `Accept: text/csv`.\n\
* Pages: `limit` (1–1000, default 100) and an opaque `cursor`; the next page is in `next_cursor` and \
in a `Link: rel=\"next\"` header.\n\
* Languages: `?lang=uk|en|es` or `Accept-Language`. Each text is `{value, lang, fallback}` so a \
fallback to another language is visible; `Content-Language` lists the languages served.\n\
* Unknown is `null`: nothing is guessed. Every record lists its `sources`.\n\
* Unknown query parameters are refused with 400. Every error is RFC 9457 `application/problem+json`.",
        license(name = "Apache-2.0"),
    ),
    tags(
        (name = "index", description = "Entry point"),
        (name = "plans", description = "OGP action plans, their member and co-creation facts"),
        (name = "commitments", description = "Commitments of a plan, with OGP values and progress rollups"),
        (name = "milestones", description = "Milestones of commitments: status and due dates"),
        (name = "institutions", description = "Lead institutions and other stakeholders"),
        (name = "sources", description = "Where every fact comes from"),
        (name = "registries", description = "Geoportal registries (datasets): passport, schema and items as JSON, CSV, GeoJSON, NDJSON"),
        (name = "releases", description = "Numbered, immutable releases of the plan and of each registry, and the change feed across them"),
        (name = "catalog", description = "DCAT-AP 3 catalog of every dataset (JSON-LD, Turtle), for open-data portals"),
        (name = "feeds", description = "Atom feeds for feed readers: plan activity and releases"),
        (name = "audit", description = "Who changed what, when (admin tokens)"),
        (name = "operations", description = "Health and readiness"),
    ),
    // Types named only by query parameters are not collected automatically.
    components(schemas(
        Problem,
        params::FormatName,
        v1::milestones::StatusFilterName,
        v1::registries::ItemFormatName,
        v1::registries::CountName,
        v1::registries::DelimiterName,
        v1::registries::CsvHeaderName,
    )),
)]
struct ApiDoc;

/// The document's info, tags and the schemas no route names; the paths come from the routes.
pub(super) fn base() -> oa::OpenApi {
    ApiDoc::openapi()
}

/// The OpenAPI document, built from the same route registrations the server uses.
pub fn openapi() -> oa::OpenApi {
    let (_, mut api) = super::routes(App::new().into_utoipa_app()).split_for_parts();
    add_bearer_scheme(&mut api);
    add_problem_responses(&mut api);
    add_caching_headers(&mut api);
    share_repeated_parameters(&mut api);
    share_repeated_headers(&mut api);
    api
}

/// The schema of a wire type a renderer writes as text (GeoJSON, JSON-LD, CSVW), written down as
/// the JSON Schema it is.
pub(crate) fn schema_from_json(schema: serde_json::Value) -> RefOr<oa::schema::Schema> {
    let parsed: RefOr<oa::schema::Schema> =
        serde_json::from_value(schema.clone()).expect("a schema literal is a valid schema");
    // utoipa's types drop keywords they do not know; the document must say all that was written.
    debug_assert_eq!(
        serde_json::to_value(&parsed).ok(),
        Some(schema),
        "a schema literal survives utoipa's types unchanged"
    );
    parsed
}

/// Defines the schema of a wire type a renderer writes as text (GeoJSON, JSON-LD, CSVW), so it has
/// no struct to derive from: a unit type named `$name` whose schema is the JSON Schema given, with
/// the types it references.
macro_rules! written_schema {
    ($(#[$doc:meta])* $name:ident, [$($dependency:ty),*], $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::api::openapi::schema_from_json($schema)
            }
        }

        impl utoipa::ToSchema for $name {
            // Unused by a schema without dependencies.
            #[allow(unused_variables)]
            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                $(
                    schemas.push((
                        <$dependency as utoipa::ToSchema>::name().into(),
                        <$dependency as utoipa::PartialSchema>::schema(),
                    ));
                    <$dependency as utoipa::ToSchema>::schemas(schemas);
                )*
            }
        }
    };
}

pub(crate) use written_schema;

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn components(api: &mut oa::OpenApi) -> &mut oa::Components {
    api.components.get_or_insert_with(oa::Components::new)
}

/// Every problem response an operation may give: status, name in `components.responses`, and
/// what it means.
const PROBLEMS: [(&str, &str, &str); 17] = [
    (
        "400",
        "BadRequest",
        "A query parameter is unknown, malformed or out of range (the problem names it)",
    ),
    (
        "400",
        "MalformedBody",
        "The body is not JSON at all (`malformed-body`: where the text stops being JSON, by \
         line and column), or a header is malformed (the problem names it); nothing changed",
    ),
    (
        "400",
        "BadUploadRequest",
        "A header (`Content-Disposition`, `Idempotency-Key`, `If-Match`) or query parameter is \
         malformed (the problem names it), or the body could not be read; nothing changed",
    ),
    (
        "401",
        "Unauthorized",
        "No valid bearer token (missing, unknown or revoked); see `WWW-Authenticate`",
    ),
    (
        "403",
        "Forbidden",
        "The token lacks the scope this operation needs (the problem names it)",
    ),
    ("404", "NotFound", "No such record, registry or route"),
    ("406", "NotAcceptable", "No representation matches `Accept`"),
    (
        "409",
        "Conflict",
        "An upload with this `Idempotency-Key` is still running; ask again later",
    ),
    (
        "412",
        "PreconditionFailed",
        "`If-Match` names a release older than the record's last change",
    ),
    (
        "413",
        "ContentTooLarge",
        "The body is larger than allowed (the problem names the limit)",
    ),
    (
        "414",
        "UriTooLong",
        "The query string is longer than the limit (4096 bytes by default)",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body's media type is not one this operation takes (the problem lists those it \
         takes)",
    ),
    (
        "422",
        "InvalidBody",
        "The body is JSON but not what the operation takes (`invalid-body`): a member is \
         missing, unknown, of the wrong type or out of range, or a rule across members is broken. \
         `errors` lists every fault as `{pointer, detail}` (a JSON Pointer, `\"\"` for the body \
         as a whole); `pointer` and `detail` repeat the first. Nothing changed",
    ),
    (
        "422",
        "ImportRefused",
        "The file was refused (`import-refused`): `errors` lists every problem (the first 100) \
         with its CSV `line` and `column`, or its GeoJSON feature number (`line`) and `pointer`; \
         a file without items needs `allow_empty=true`. Also `invalid-body` when an \
         `Idempotency-Key` comes again with another file. Nothing changed",
    ),
    (
        "429",
        "TooManyRequests",
        "A rate limit is spent (see the `RateLimit` header); retry after `Retry-After` seconds",
    ),
    (
        "500",
        "InternalError",
        "A bug; logged, answered without internals",
    ),
    (
        "503",
        "Unavailable",
        "The database cannot be reached; retry after `Retry-After` seconds",
    ),
];

/// The problem responses of a JSON write (PATCH a milestone, POST a progress update).
const JSON_WRITE_PROBLEMS: [&str; 11] = [
    "MalformedBody",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "ContentTooLarge",
    "UnsupportedMediaType",
    "InvalidBody",
    "TooManyRequests",
    "InternalError",
    "Unavailable",
];

/// The problem responses of an upload (POST a registry file).
const UPLOAD_PROBLEMS: [&str; 12] = [
    "BadUploadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "PreconditionFailed",
    "ContentTooLarge",
    "UnsupportedMediaType",
    "ImportRefused",
    "TooManyRequests",
    "InternalError",
    "Unavailable",
];

/// Adds the error responses every operation can give, each defined once in
/// `components.responses`; a response an operation documents itself is kept.
fn add_problem_responses(api: &mut oa::OpenApi) {
    let components = components(api);
    for (_, name, description) in PROBLEMS {
        components.responses.insert(
            name.into(),
            RefOr::T(
                oa::ResponseBuilder::new()
                    .description(description)
                    .content(
                        PROBLEM_JSON,
                        oa::ContentBuilder::new()
                            .schema(Some(oa::Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            ),
        );
    }
    let add = |op: &mut Operation, names: &[&str]| {
        for (status, name, _) in PROBLEMS {
            if names.contains(&name) {
                op.responses
                    .responses
                    .entry(status.into())
                    .or_insert_with(|| RefOr::Ref(oa::Ref::from_response_name(name)));
            }
        }
    };
    for (path, item) in api.paths.paths.iter_mut() {
        if let Some(upload) = item.post.as_mut()
            && path.ends_with("/imports")
        {
            add(upload, &UPLOAD_PROBLEMS);
        }
        for write in [item.post.as_mut(), item.patch.as_mut()]
            .into_iter()
            .flatten()
        {
            add(write, &JSON_WRITE_PROBLEMS);
        }
        let Some(op) = item.get.as_mut() else {
            continue;
        };
        if op.security.is_some() {
            add(op, &["Unauthorized", "Forbidden"]);
        }
        // Every API operation refuses unknown and malformed query parameters.
        if path.starts_with("/api/") {
            add(op, &["BadRequest"]);
        }
        add(
            op,
            &[
                "NotFound",
                "NotAcceptable",
                "UriTooLong",
                "TooManyRequests",
                "InternalError",
                "Unavailable",
            ],
        );
    }
}

/// The validators and freshness headers `caching::conditional` adds to every API GET.
const CACHING_HEADERS: [(&str, &str); 5] = [
    (
        "ETag",
        "Strong validator: derived from the release read and the request (or the body); a \
         compressed body's tag ends in `-gzip` / `-br`",
    ),
    (
        "Cache-Control",
        "`public, max-age=31536000, immutable` for release-pinned reads; `public, max-age=60` \
         for the latest data; `no-cache` for the change feed; `no-store` on errors",
    ),
    ("Vary", "`Accept, Accept-Language, Accept-Encoding`"),
    (
        "Last-Modified",
        "When the release read was published (dataset reads)",
    ),
    (
        "Data-Release",
        "`<dataset>@<number>`: the release this response was read from (`plan@3`, \
         `registries/<slug>@2`)",
    ),
];

/// The conditional request headers `caching::conditional` honours.
const CONDITIONS: [(&str, &str); 2] = [
    (
        "If-None-Match",
        "ETags of copies held; 304 when one is current",
    ),
    (
        "If-Modified-Since",
        "HTTP date; 304 when the data has not changed since (ignored with If-None-Match)",
    ),
];

fn text_schema() -> oa::Object {
    oa::ObjectBuilder::new()
        .schema_type(oa::schema::Type::String)
        .build()
}

/// Documents the validators and freshness headers `caching::conditional` adds to every API GET,
/// the conditional request headers it honours, and its 304: each once in `components`.
fn add_caching_headers(api: &mut oa::OpenApi) {
    use oa::path::{ParameterBuilder, ParameterIn};
    let header_ref = |name: &str| RefOr::Ref(oa::Ref::new(format!("#/components/headers/{name}")));
    let components = components(api);
    for (name, description) in CACHING_HEADERS {
        components.headers.insert(
            name.into(),
            RefOr::T(
                oa::HeaderBuilder::new()
                    .schema(Some(text_schema()))
                    .description(Some(description))
                    .build(),
            ),
        );
    }
    for (name, description) in CONDITIONS {
        components.parameters.insert(
            name.into(),
            RefOr::T(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Header)
                    .required(oa::Required::False)
                    .description(Some(description))
                    .schema(Some(text_schema()))
                    .build(),
            ),
        );
    }
    let mut not_modified = oa::ResponseBuilder::new()
        .description("Not Modified: the copy named by If-None-Match / If-Modified-Since is current")
        .build();
    for (name, _) in CACHING_HEADERS {
        not_modified.headers.insert(name.into(), header_ref(name));
    }
    components
        .responses
        .insert("NotModified".into(), RefOr::T(not_modified));

    for (path, item) in api.paths.paths.iter_mut() {
        if !path.starts_with("/api/") {
            continue;
        }
        let Some(op) = item.get.as_mut() else {
            continue;
        };
        let parameters = op.parameters.get_or_insert_with(Vec::new);
        for (name, _) in CONDITIONS {
            parameters.push(RefOr::Ref(oa::Ref::new(format!(
                "#/components/parameters/{name}"
            ))));
        }
        let responses = &mut op.responses.responses;
        if let Some(RefOr::T(ok)) = responses.get_mut("200") {
            for (name, _) in CACHING_HEADERS {
                ok.headers
                    .entry(name.into())
                    .or_insert_with(|| header_ref(name));
            }
        }
        responses.insert(
            "304".into(),
            RefOr::Ref(oa::Ref::from_response_name("NotModified")),
        );
    }
}

/// Where a repeated definition goes: `components.<kind>`, under a name made from `base` (the
/// parameter's or header's own name): bare when operations of several tags share it, else
/// `<tag>.<base>` (`registries.limit`); a number follows only if that is taken.
struct Shared<T> {
    /// Occurrences of each distinct definition (by its JSON), in document order.
    seen: Vec<(String, String, T, BTreeSet<String>, usize)>,
}

impl<T: Clone> Shared<T> {
    fn new() -> Self {
        Shared { seen: Vec::new() }
    }

    fn note(&mut self, base: &str, key: String, value: &T, tag: &str) {
        match self.seen.iter_mut().find(|(_, k, ..)| *k == key) {
            Some((_, _, _, tags, count)) => {
                tags.insert(tag.to_owned());
                *count += 1;
            }
            None => self.seen.push((
                base.to_owned(),
                key,
                value.clone(),
                BTreeSet::from([tag.to_owned()]),
                1,
            )),
        }
    }

    /// The component name of each definition that occurs more than once, by its JSON, and the
    /// definitions to store under those names.
    fn names(self, taken: &BTreeSet<String>) -> (BTreeMap<String, String>, Vec<(String, T)>) {
        let mut taken = taken.clone();
        let mut names = BTreeMap::new();
        let mut defined = Vec::new();
        for (base, key, value, tags, count) in self.seen {
            if count < 2 {
                continue;
            }
            let plain = match tags.iter().next() {
                Some(tag) if tags.len() == 1 => format!("{tag}.{base}"),
                _ => base,
            };
            let mut name = plain.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{plain}.{n}");
                n += 1;
            }
            taken.insert(name.clone());
            names.insert(key, name.clone());
            defined.push((name, value));
        }
        (names, defined)
    }
}

fn first_tag(op: &Operation) -> String {
    op.tags
        .as_ref()
        .and_then(|t| t.first())
        .cloned()
        .unwrap_or_default()
}

fn json_key<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("OpenAPI objects serialise")
}

/// Moves every parameter defined identically by two or more operations to
/// `components.parameters`.
fn share_repeated_parameters(api: &mut oa::OpenApi) {
    let mut shared = Shared::new();
    for item in api.paths.paths.values_mut() {
        for op in operations_mut(item) {
            let tag = first_tag(op);
            for parameter in op.parameters.iter().flatten() {
                if let RefOr::T(p) = parameter {
                    shared.note(&p.name, json_key(p), p, &tag);
                }
            }
        }
    }
    let components = components(api);
    let taken = components.parameters.keys().cloned().collect();
    let (names, defined) = shared.names(&taken);
    for (name, parameter) in defined {
        components.parameters.insert(name, RefOr::T(parameter));
    }
    for item in api.paths.paths.values_mut() {
        for op in operations_mut(item) {
            for parameter in op.parameters.iter_mut().flatten() {
                if let RefOr::T(p) = parameter
                    && let Some(name) = names.get(&json_key(p))
                {
                    *parameter =
                        RefOr::Ref(oa::Ref::new(format!("#/components/parameters/{name}")));
                }
            }
        }
    }
}

/// Moves every response header defined identically in two or more responses to
/// `components.headers`.
fn share_repeated_headers(api: &mut oa::OpenApi) {
    let mut shared = Shared::new();
    for item in api.paths.paths.values_mut() {
        for op in operations_mut(item) {
            let tag = first_tag(op);
            for response in op.responses.responses.values() {
                if let RefOr::T(response) = response {
                    for (name, header) in &response.headers {
                        if let RefOr::T(h) = header {
                            shared.note(name, format!("{name}\n{}", json_key(h)), h, &tag);
                        }
                    }
                }
            }
        }
    }
    let components = components(api);
    let taken = components.headers.keys().cloned().collect();
    let (names, defined) = shared.names(&taken);
    for (name, header) in defined {
        components.headers.insert(name, RefOr::T(header));
    }
    for item in api.paths.paths.values_mut() {
        for op in operations_mut(item) {
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    for (header_name, header) in response.headers.iter_mut() {
                        if let RefOr::T(h) = header
                            && let Some(name) =
                                names.get(&format!("{header_name}\n{}", json_key(h)))
                        {
                            *header =
                                RefOr::Ref(oa::Ref::new(format!("#/components/headers/{name}")));
                        }
                    }
                }
            }
        }
    }
}

/// Declares the bearer tokens writes need (`security(("bearer" = []))` on an operation).
fn add_bearer_scheme(api: &mut oa::OpenApi) {
    use oa::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    components(api).security_schemes.insert(
        "bearer".into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An API token (`ogt_…`) from `opengov-api token create`; only writes and \
                     the audit log need one",
                ))
                .build(),
        )),
    );
}
