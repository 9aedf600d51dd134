//! HTTP caching for every GET of the API and the web pages: a strong `ETag`, `304 Not Modified` for
//! `If-None-Match` / `If-Modified-Since`, `Cache-Control` and `Vary`.
//!
//! Validators of dataset reads (plan resources, registry items) are derived from the release the
//! handler read (`Data-Release`) and the normalised request, so a request revalidating with its tag
//! (`If-None-Match`) is answered from one indexed lookup of the latest release — without running
//! the query — and a request pinned with `?release=` from no lookup at all. `*` and
//! `If-Modified-Since` are decided after the handler, so an invalid request still gets its 4xx. Other responses (index, registry passports,
//! releases, feeds, catalog) get the SHA-256 of their body. Compressed bodies get the encoding
//! appended to the tag (`"…-br"`), so each byte-distinct representation has its own strong tag.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::http::release::{self, RELEASE_HEADER};
use crate::models::releases::{self, PLAN, Release};

/// Changes whenever the code that renders responses does (see build.rs).
const BUILD_ID: &str = env!("BUILD_ID");

/// `Cache-Control` of a response pinned to a release: it can never change.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Latest data: caches may reuse it briefly, then revalidate (cheap: a 304).
const LATEST: &str = "public, max-age=60";
/// The change feed: always revalidate, so a poller never misses an event.
const ALWAYS_REVALIDATE: &str = "no-cache";
const VARY: &str = "Accept, Accept-Language, Accept-Encoding";
/// Bodies larger than this are streamed exports and not hashed (they carry a release).
const HASHED_BODY_LIMIT: u64 = 16 * 1024 * 1024;

/// What the middleware asks of the application it wraps (`server` wraps
/// `conditional::<AppState, _>` and implements this for the state it registers as app data).
pub trait Site: 'static {
    /// Whether GETs of `path` get validators and `Cache-Control`.
    fn validated(path: &str) -> bool;

    /// A dataset's latest release, when it can be read at once; `None` lets the request run.
    fn latest_release(&self, dataset: String) -> impl Future<Output = Option<Release>>;
}

/// What a request reads, as far as validators are concerned.
enum Scope {
    /// A dataset read; `pinned` is the `?release=` number.
    Dataset {
        dataset: String,
        pinned: Option<i64>,
    },
    Other,
}

fn scope(path: &str, query: &[(String, String)]) -> Scope {
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return Scope::Other;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let dataset = match segments.as_slice() {
        [first, ..]
            if matches!(
                first.trim_end_matches(".csv"),
                "plans" | "commitments" | "milestones" | "institutions" | "sources"
            ) =>
        {
            PLAN.to_owned()
        }
        ["registries", slug, items, ..]
            if items.starts_with("items") && *items != "items.csv-metadata.json" =>
        {
            releases::registry_dataset(slug)
        }
        _ => return Scope::Other,
    };
    let pinned = query
        .iter()
        .find(|(k, _)| k == "release")
        .and_then(|(_, v)| release::parse_param(Some(v)).ok().flatten());
    Scope::Dataset { dataset, pinned }
}

/// The request as far as it selects a representation: path, query parameters in a canonical
/// order, and the negotiation headers named in `Vary` (except the encoding, tagged separately).
fn request_key(req: &ServiceRequest, query: &[(String, String)]) -> String {
    let mut pairs = query.to_vec();
    pairs.sort();
    let header = |name: header::HeaderName, absent: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(absent)
            .trim()
            .to_owned()
    };
    format!(
        "{}?{}\n{}\n{}",
        req.path(),
        serde_urlencoded::to_string(&pairs).unwrap_or_default(),
        // No Accept means any media type (RFC 9110 §12.5.1): the same as `*/*`.
        header(header::ACCEPT, "*/*"),
        header(header::ACCEPT_LANGUAGE, "")
    )
}

fn tag_of(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update(p);
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    format!("\"{}\"", crate::models::registries::hex(&digest[..16]))
}

/// The ETag of a dataset read: the release read, visibly (so `If-Match` on a write can say
/// which release the client's copy came from), and a digest of the normalised request:
/// `"plan@3.1f0c…"`.
fn release_tag(release: &str, key: &str) -> String {
    let digest = tag_of(&[BUILD_ID.as_bytes(), release.as_bytes(), key.as_bytes()]);
    format!("\"{release}.{}", &digest[1..])
}

/// The release an ETag of ours names (`If-Match` on writes): `("plan", 3)` from
/// `"plan@3.1f0c…"`, also weak or with a coding suffix. `None` for any other tag.
pub fn release_in_tag(tag: &str) -> Option<(String, i64)> {
    let tag = tag.trim().trim_start_matches("W/");
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    let (release, _digest) = inner.rsplit_once('.')?;
    let (dataset, number) = release.rsplit_once('@')?;
    let number: i64 = number.parse().ok()?;
    (number > 0 && !dataset.is_empty()).then(|| (dataset.to_owned(), number))
}

/// The validators a request carries.
struct Conditions {
    if_none_match: Option<Vec<String>>,
    if_modified_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// Content codings we append to tags (see `tag_encoding`).
const CODINGS: [&str; 4] = ["br", "gzip", "zstd", "deflate"];

impl Conditions {
    fn of(headers: &HeaderMap) -> Self {
        let if_none_match = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .map(|t| {
                        // Weak comparison (RFC 9110 §13.1.2), and a tag we suffixed with the
                        // coding it was sent in names the same content.
                        let t = t.trim().trim_start_matches("W/").to_owned();
                        match t.strip_suffix('"').and_then(|t| t.rsplit_once('-')) {
                            Some((base, coding)) if CODINGS.contains(&coding) => {
                                format!("{base}\"")
                            }
                            _ => t,
                        }
                    })
                    .collect()
            });
        let if_modified_since = headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
            .map(|d| d.with_timezone(&chrono::Utc));
        Conditions {
            if_none_match,
            if_modified_since,
        }
    }

    /// True when `If-None-Match` names `etag` itself. Only such a tag, issued with an earlier 200
    /// to this very request, shows that the request would succeed; `*` and `If-Modified-Since`
    /// hold for any request, even one answered 400 or 404, where they must be ignored (RFC 9110
    /// §13.2.1).
    fn names(&self, etag: &str) -> bool {
        self.if_none_match
            .as_ref()
            .is_some_and(|tags| tags.iter().any(|t| t == etag))
    }

    /// True when the client's copy is current (RFC 9110 §13.2.2: If-None-Match wins; then
    /// If-Modified-Since against `last_modified`).
    fn not_modified(&self, etag: &str, last_modified: Option<&str>) -> bool {
        if let Some(tags) = &self.if_none_match {
            return tags.iter().any(|t| t == "*" || t == etag);
        }
        match (self.if_modified_since, last_modified) {
            (Some(since), Some(lm)) => chrono::DateTime::parse_from_rfc2822(lm)
                .map(|lm| lm.with_timezone(&chrono::Utc) <= since)
                .unwrap_or(false),
            _ => false,
        }
    }
}

fn not_modified(
    req: actix_web::HttpRequest,
    etag: &str,
    cache_control: &str,
    last_modified: Option<String>,
    release: Option<String>,
) -> ServiceResponse<BoxBody> {
    let mut response = HttpResponse::NotModified();
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, VARY));
    if let Some(lm) = last_modified {
        response.insert_header((header::LAST_MODIFIED, lm));
    }
    if let Some(r) = release {
        response.insert_header((RELEASE_HEADER, r));
    }
    ServiceResponse::new(req, response.finish())
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The middleware (`middleware::from_fn`).
pub async fn conditional<S: Site, B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // HEAD is answered as GET further in, so it gets the same validators.
    let readable = req.method() == Method::GET || req.method() == Method::HEAD;
    if !readable || !S::validated(req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let key = request_key(&req, &query);
    let conditions = Conditions::of(req.headers());
    let scope = scope(req.path(), &query);
    let pinned = matches!(
        scope,
        Scope::Dataset {
            pinned: Some(_),
            ..
        }
    );
    let fresh_for = if pinned {
        IMMUTABLE
    } else if req.path().starts_with("/api/v1/changes") {
        ALWAYS_REVALIDATE
    } else {
        LATEST
    };

    // A dataset read revalidated with one of its tags is decided before the query runs; any
    // other condition waits for the handler's 200.
    if conditions.if_none_match.is_some()
        && let Scope::Dataset { dataset, pinned } = &scope
    {
        let current = match pinned {
            Some(n) => Some((format!("{dataset}@{n}"), None)),
            None => latest_release::<S>(&req, dataset.clone()).await,
        };
        if let Some((release, last_modified)) = current {
            let etag = release_tag(&release, &key);
            if conditions.names(&etag) {
                return Ok(not_modified(
                    req.into_parts().0,
                    &etag,
                    fresh_for,
                    last_modified,
                    Some(release),
                ));
            }
        }
    }

    let mut res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    if status != StatusCode::OK {
        if status.is_client_error() || status.is_server_error() {
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        return Ok(res);
    }
    let headers = res.headers();
    let etag = match header_str(headers, RELEASE_HEADER) {
        Some(release) => release_tag(&release, &key),
        None => match res.response().body().size() {
            BodySize::Sized(n) if n <= HASHED_BODY_LIMIT => {
                let (req, response) = res.into_parts();
                let (response, body) = response.into_parts();
                let bytes = actix_web::body::to_bytes(body)
                    .await
                    .map_err(|_| actix_web::error::ErrorInternalServerError("body"))?;
                let etag = tag_of(&[&bytes]);
                res = ServiceResponse::new(req, response.set_body(BoxBody::new(bytes)));
                etag
            }
            _ => {
                // Nothing to derive a validator from: leave it uncached rather than wrong.
                return Ok(res);
            }
        },
    };
    let last_modified = header_str(res.headers(), header::LAST_MODIFIED);
    if conditions.not_modified(&etag, last_modified.as_deref()) {
        let release = header_str(res.headers(), RELEASE_HEADER);
        let cache_control = header_str(res.headers(), header::CACHE_CONTROL);
        let (req, _) = res.into_parts();
        return Ok(not_modified(
            req,
            &etag,
            cache_control.as_deref().unwrap_or(fresh_for),
            last_modified,
            release,
        ));
    }
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(fresh_for));
    }
    // Keep what a handler varies on besides negotiation (the catalog: proxy headers).
    let mut vary: Vec<String> = VARY.split(", ").map(str::to_owned).collect();
    for value in headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
    {
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !vary.iter().any(|v| v.eq_ignore_ascii_case(name)) {
                vary.push(name.to_owned());
            }
        }
    }
    if let Ok(v) = HeaderValue::from_str(&vary.join(", ")) {
        headers.insert(header::VARY, v);
    }
    Ok(res)
}

/// `Data-Release` value and `Last-Modified` of a dataset's latest release (None when it has none
/// or the database cannot say; the request then simply runs).
async fn latest_release<S: Site>(
    req: &ServiceRequest,
    dataset: String,
) -> Option<(String, Option<String>)> {
    let site = req.app_data::<web::Data<S>>()?.clone();
    let latest = site.latest_release(dataset).await?;
    Some((
        release::header_value(&latest),
        release::http_date(&latest.created_at),
    ))
}

/// Outermost layer, after compression: a compressed body is a different representation, so its
/// tag names the coding (`"…-gzip"`); `Conditions` strips it again when comparing.
pub fn tag_encoding<B>(mut res: ServiceResponse<B>) -> ServiceResponse<B> {
    let coding = header_str(res.headers(), header::CONTENT_ENCODING);
    let etag = header_str(res.headers(), header::ETAG);
    if let (Some(coding), Some(etag)) = (coding, etag)
        && CODINGS.contains(&coding.as_str())
        && let Some(base) = etag.strip_suffix('"')
        && let Ok(v) = HeaderValue::from_str(&format!("{base}-{coding}\""))
    {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}
