//! One error type for the whole API, always answered as RFC 9457 `application/problem+json`.
//! Actix's own errors (extractors, unknown routes, wrong methods) are turned into the same body.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// RFC 9457 problem details.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "tag:opengov-api,2026:problem/invalid-parameter",
    "title": "Invalid query parameter",
    "status": 400,
    "detail": "limit: 5000 is outside 1..=1000",
    "instance": "/api/v1/commitments?limit=5000",
    "parameter": "limit"
}))]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` when the status code says it all).
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    /// What went wrong with this request, naming the parameter or value at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path and query that caused the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The query parameter at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// For 410 on the change feed: how to start again — a cursor for the current head and the
    /// pinned snapshots to load first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub restart: Option<serde_json::Value>,
    /// For an invalid request body (`invalid-body`): a JSON Pointer (RFC 6901) to the first
    /// member at fault, e.g. `/evidence/0/url` (`""` for the body as a whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Every fault found: for `invalid-body`, each invalid member as `{pointer, detail}`; for
    /// `import-refused`, each problem of the file as `{line, column, pointer, message}` (the
    /// first 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub errors: Option<serde_json::Value>,
}

/// One invalid member of a request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BodyFault {
    /// JSON Pointer (RFC 6901) to the member, `""` for the body as a whole.
    pub pointer: String,
    /// What is wrong with it and what it takes, without the pointer.
    pub detail: String,
}

impl BodyFault {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        BodyFault {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for BodyFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.detail)
        } else {
            write!(f, "{}: {}", self.pointer, self.detail)
        }
    }
}

/// The `detail` of an invalid body: the first fault, and how many more `errors` lists.
fn body_faults_summary(faults: &[BodyFault]) -> String {
    match faults {
        [] => "the request body is invalid".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more: see errors)", rest.len()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A query or path parameter is malformed, unknown or out of range.
    #[error("{detail}")]
    InvalidParameter {
        parameter: Option<String>,
        detail: String,
    },
    #[error("{0}")]
    NotFound(String),
    /// No representation matches the request's `Accept` header.
    #[error("{0}")]
    NotAcceptable(String),
    /// What was asked for existed once and was deliberately removed (a pruned change feed).
    #[error("{detail}")]
    Gone {
        detail: String,
        restart: serde_json::Value,
    },
    /// No valid bearer token: missing (`error: None`), malformed (`invalid_request`), unknown or
    /// revoked (`invalid_token`) — the RFC 6750 error code for `WWW-Authenticate`.
    #[error("{detail}")]
    Unauthorized {
        detail: String,
        error: Option<&'static str>,
    },
    /// The token is valid but lacks the scope the operation needs.
    #[error("{0}")]
    Forbidden(String),
    /// A request body that is not the JSON the operation takes (syntax, unknown members, types).
    #[error("{0}")]
    MalformedBody(String),
    /// Request body members that are missing, of the wrong type, unknown, out of range or
    /// inconsistent (each fault names its member with a JSON Pointer).
    #[error("{}", body_faults_summary(.0))]
    InvalidBody(Vec<BodyFault>),
    /// `If-Match` does not match the current state.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The request conflicts with one in progress (same idempotency key, still running).
    #[error("{0}")]
    Conflict(String),
    /// The body's media type is not one the operation takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// An uploaded file does not match the registry's schema; nothing was changed.
    #[error("{detail}")]
    ImportRefused {
        detail: String,
        errors: serde_json::Value,
    },
    /// Every database connection stayed busy for the pool timeout (overload, not an outage).
    #[error("{0}")]
    AtCapacity(String),
    /// The database cannot be reached (pool timeout, refused connection).
    #[error("{0}")]
    Unavailable(String),
    /// The database gave up on a query at its time limit: PostgreSQL's statement timeout or
    /// SQLite's busy timeout. 503 like an outage (transient, retry later), with its own type.
    #[error("{0}")]
    DbTimeout(String),
    /// The service runs but cannot serve yet (e.g. migrations pending); the detail says why.
    #[error("{0}")]
    NotReady(String),
    /// A bug: logged in full, answered without internals.
    #[error("{0}")]
    Internal(String),
    /// The request body is larger than the limit the detail names (413).
    #[error("{0}")]
    TooLarge(String),
    /// The query string is longer than the limit the detail names (414).
    #[error("{0}")]
    UriTooLong(String),
    /// A rate-limit quota is spent (429); a request may succeed after `retry_after` seconds.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
}

impl AppError {
    pub fn invalid(parameter: impl Into<String>, detail: impl Into<String>) -> Self {
        let parameter = parameter.into();
        AppError::InvalidParameter {
            detail: format!("{parameter}: {}", detail.into()),
            parameter: Some(parameter),
        }
    }

    /// A request body with one fault.
    pub fn invalid_body(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        AppError::InvalidBody(vec![BodyFault::new(pointer, detail)])
    }

    fn type_and_title(&self) -> (&'static str, &'static str) {
        match self {
            AppError::InvalidParameter { .. } => (
                "tag:opengov-api,2026:problem/invalid-parameter",
                "Invalid query parameter",
            ),
            AppError::NotFound(_) => ("about:blank", "Not Found"),
            AppError::NotAcceptable(_) => ("about:blank", "Not Acceptable"),
            AppError::Gone { .. } => (
                "tag:opengov-api,2026:problem/changes-pruned",
                "Changes no longer retained",
            ),
            AppError::Unavailable(_) => (
                "tag:opengov-api,2026:problem/database-unavailable",
                "Database unavailable",
            ),
            AppError::DbTimeout(_) => (
                "tag:opengov-api,2026:problem/database-timeout",
                "Database time limit reached",
            ),
            AppError::NotReady(_) => ("tag:opengov-api,2026:problem/not-ready", "Not ready"),
            AppError::AtCapacity(_) => (
                "tag:opengov-api,2026:problem/at-capacity",
                "Server at capacity",
            ),
            AppError::Unauthorized { .. } => ("about:blank", "Unauthorized"),
            AppError::MalformedBody(_) => (
                "tag:opengov-api,2026:problem/malformed-body",
                "Malformed request body",
            ),
            AppError::Forbidden(_) => ("about:blank", "Forbidden"),
            AppError::InvalidBody(_) => (
                "tag:opengov-api,2026:problem/invalid-body",
                "Invalid request body",
            ),
            AppError::PreconditionFailed(_) => ("about:blank", "Precondition Failed"),
            AppError::Conflict(_) => ("about:blank", "Conflict"),
            AppError::UnsupportedMediaType(_) => ("about:blank", "Unsupported Media Type"),
            AppError::ImportRefused { .. } => (
                "tag:opengov-api,2026:problem/import-refused",
                "Import refused",
            ),
            AppError::Internal(_) => ("about:blank", "Internal Server Error"),
            AppError::TooLarge(_) => (
                "tag:opengov-api,2026:problem/body-too-large",
                "Request body too large",
            ),
            AppError::UriTooLong(_) => (
                "tag:opengov-api,2026:problem/query-too-long",
                "Query string too long",
            ),
            AppError::TooManyRequests { .. } => (
                "tag:opengov-api,2026:problem/rate-limited",
                "Too many requests",
            ),
        }
    }

    pub fn to_problem(&self, instance: Option<String>) -> Problem {
        let (type_uri, title) = self.type_and_title();
        let detail = match self {
            // Never leak SQL, paths or driver messages.
            AppError::Internal(_) => {
                Some("An unexpected error occurred; it has been logged.".into())
            }
            AppError::Unavailable(_) => Some(
                "The database cannot be reached right now; retry later (see Retry-After).".into(),
            ),
            AppError::DbTimeout(_) => Some(
                "The database query was cancelled at its time limit (the statement timeout on \
                 PostgreSQL, the busy timeout on SQLite); retry later (see Retry-After), or narrow \
                 the request with filters or a smaller limit."
                    .into(),
            ),
            other => Some(other.to_string()),
        };
        Problem {
            type_uri: type_uri.into(),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            instance,
            parameter: match self {
                AppError::InvalidParameter { parameter, .. } => parameter.clone(),
                AppError::Gone { .. } => Some("since".into()),
                _ => None,
            },
            restart: match self {
                AppError::Gone { restart, .. } => Some(restart.clone()),
                _ => None,
            },
            pointer: match self {
                AppError::InvalidBody(faults) => faults.first().map(|f| f.pointer.clone()),
                _ => None,
            },
            errors: match self {
                AppError::ImportRefused { errors, .. } => Some(errors.clone()),
                AppError::InvalidBody(faults) => serde_json::to_value(faults).ok(),
                _ => None,
            },
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            AppError::Gone { .. } => StatusCode::GONE,
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            AppError::MalformedBody(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::InvalidBody(_) | AppError::ImportRefused { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable(_)
            | AppError::NotReady(_)
            | AppError::DbTimeout(_)
            | AppError::AtCapacity(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(cause) => log::error!("internal error: {cause}"),
            AppError::Unavailable(cause) => log::warn!("database unavailable: {cause}"),
            AppError::DbTimeout(cause) => log::warn!("database time limit: {cause}"),
            _ => {}
        }
        // The instance is filled in by `problem_json_errors`, which sees the request.
        let mut response = HttpResponse::build(self.status_code());
        if matches!(
            self,
            AppError::Unavailable(_) | AppError::NotReady(_) | AppError::DbTimeout(_)
        ) {
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        if matches!(self, AppError::AtCapacity(_)) {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        if let AppError::Unauthorized { error, .. } = self {
            // RFC 6750 §3: say which scheme, and why the presented credentials failed.
            let error = error.map_or_else(String::new, |code| format!(", error=\"{code}\""));
            response.insert_header((
                header::WWW_AUTHENTICATE,
                format!("Bearer realm=\"opengov-api\"{error}"),
            ));
        }
        if let AppError::TooManyRequests { retry_after, .. } = self {
            response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        response
            .content_type(PROBLEM_JSON)
            .json(self.to_problem(None))
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use crate::db::Trouble;
        match crate::db::trouble(&e) {
            Some(Trouble::Unreachable) => AppError::Unavailable(e.to_string()),
            Some(Trouble::StatementTimeout | Trouble::Busy) => AppError::DbTimeout(e.to_string()),
            None => AppError::Internal(e.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(e.to_string())
    }
}

/// The problem response of `err` with its `instance`, for middleware that answers before the
/// routes (and so before `problem_json_errors`, which fills in the instance of handler errors).
pub fn problem_response(err: &AppError, req: &HttpRequest) -> HttpResponse {
    let mut response = err.error_response();
    // Not stored: the next identical request may well be answered.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let body = serde_json::to_vec(&err.to_problem(Some(instance_of(req)))).unwrap_or_default();
    response.set_body(BoxBody::new(body))
}

/// Errors of actix's JSON extractor in the caller's words: 413 naming the limit, 415 naming the
/// media type, 400 saying where the text stops being JSON. (The write handlers read their bodies
/// themselves, `api::write_bodies`; this keeps any other JSON extractor as clear.)
pub fn json_body_error(
    err: actix_web::error::JsonPayloadError,
    req: &HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    match err {
        JsonPayloadError::OverflowKnownLength { length, limit } => AppError::TooLarge(format!(
            "the request body is {length} bytes; the limit is {limit} bytes"
        ))
        .into(),
        JsonPayloadError::Overflow { limit } => AppError::TooLarge(format!(
            "the request body is larger than the limit of {limit} bytes"
        ))
        .into(),
        JsonPayloadError::ContentType => AppError::UnsupportedMediaType(
            "the request body must be JSON: send Content-Type: application/json".into(),
        )
        .into(),
        JsonPayloadError::Deserialize(e) if e.is_data() => AppError::invalid_body(
            "",
            "the body is JSON, but not what this operation takes (see its schema in the OpenAPI \
             document)",
        )
        .into(),
        JsonPayloadError::Deserialize(e) => AppError::MalformedBody(format!(
            "the body is not valid JSON: {}",
            crate::models::json_text::syntax_problem(&e)
        ))
        .into(),
        other => {
            log::debug!("{} {}: {other}", req.method(), req.path());
            AppError::MalformedBody("the body could not be read; send it again".into()).into()
        }
    }
}

/// Turns an actix query-string error into a 400 naming the parameter.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    req: &HttpRequest,
) -> actix_web::Error {
    let raw = match &err {
        actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    let parameter = raw.split('`').nth(1).map(str::to_owned);
    let detail = if raw.starts_with("unknown field") {
        let accepted: Vec<&str> = raw.split('`').skip(3).step_by(2).collect();
        format!(
            "unknown query parameter `{}`; {} accepts: {}",
            parameter.as_deref().unwrap_or("?"),
            req.path(),
            accepted.join(", ")
        )
    } else if raw.starts_with("duplicate field") {
        format!(
            "query parameter `{}` is given more than once",
            parameter.as_deref().unwrap_or("?")
        )
    } else {
        format!("malformed query string: {raw}")
    };
    AppError::InvalidParameter { parameter, detail }.into()
}

/// Turns an actix path error into a 404 (a path that does not parse names no resource).
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::NotFound(format!("no resource at this path: {err}")).into()
}

/// The largest request body the extractors read, as app data: the 413 that raw-body extractors
/// answer without a body names it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The methods each route takes (the `Allow` of a 405), by route pattern, as app data: the server
/// builds it from the route registrations (the OpenAPI paths). A route it does not list (the web
/// pages, the docs, `/metrics`) is read-only.
#[derive(Debug, Clone, Default)]
pub struct AllowedMethods(std::collections::HashMap<String, String>);

impl AllowedMethods {
    /// From the paths of an OpenAPI document: HEAD wherever GET is.
    pub fn of(api: &utoipa::openapi::OpenApi) -> Self {
        let table = api.paths.paths.iter().map(|(pattern, item)| {
            let methods: Vec<&str> = [
                (item.get.is_some(), "GET"),
                (item.get.is_some(), "HEAD"),
                (item.post.is_some(), "POST"),
                (item.put.is_some(), "PUT"),
                (item.patch.is_some(), "PATCH"),
                (item.delete.is_some(), "DELETE"),
            ]
            .into_iter()
            .filter_map(|(taken, method)| taken.then_some(method))
            .collect();
            (pattern.clone(), methods.join(", "))
        });
        AllowedMethods(table.collect())
    }

    /// The `Allow` value of the route that `req`'s path matches.
    fn of_request(req: &HttpRequest) -> String {
        let listed = req.app_data::<AllowedMethods>().and_then(|table| {
            let pattern = req.resource_map().match_pattern(req.path())?;
            table.0.get(&pattern).cloned()
        });
        listed.unwrap_or_else(|| "GET, HEAD".to_owned())
    }
}

/// Default service: a known path with another method is 405; anything else is 404. Both as
/// problems.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    if req.resource_map().has_resource(req.path()) {
        return Ok(HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, AllowedMethods::of_request(&req)))
            .finish());
    }
    Err(AppError::NotFound(format!(
        "no route matches {} {}",
        req.method(),
        req.path()
    )))
}

/// Error-handler middleware: gives every error response a problem+json body with `instance`,
/// including the ones actix builds itself (405, payload errors) with plain text or no body.
pub fn problem_json_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    // The web pages answer errors as HTML pages (with the same title and detail).
    if res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
    {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let instance = instance_of(res.request());
    let (req, res) = res.into_parts();
    let problem = if is_problem {
        // Already a problem: keep it, only add the instance (cheap: bodies are small).
        None
    } else {
        Some(Problem {
            type_uri: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: Some(match status {
                StatusCode::METHOD_NOT_ALLOWED => format!(
                    "{} is not allowed on {}; it takes {}",
                    req.method(),
                    req.path(),
                    AllowedMethods::of_request(&req)
                ),
                // Raw-body extractors (PayloadConfig) answer 413 without a problem body.
                StatusCode::PAYLOAD_TOO_LARGE => match req.app_data::<BodyLimit>() {
                    Some(BodyLimit(limit)) => {
                        format!("the request body is larger than the limit of {limit} bytes")
                    }
                    None => "the request body is too large".to_owned(),
                },
                _ => status
                    .canonical_reason()
                    .unwrap_or("request failed")
                    .to_owned(),
            }),
            instance: Some(instance.clone()),
            parameter: None,
            restart: None,
            pointer: None,
            errors: None,
        })
    };
    let mut builder = HttpResponse::build(status);
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    builder.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
    let body = match problem {
        Some(p) => serde_json::to_vec(&p),
        None => {
            // Problem bodies are small, but they quote the parameter at fault, and a request
            // target can be up to 64 KiB: read up to 1 MiB; fall back to a fresh one otherwise.
            let bytes = actix_web::body::to_bytes_limited(res.into_body(), 1024 * 1024);
            let parsed = futures_util::FutureExt::now_or_never(bytes)
                .and_then(|r| r.ok())
                .and_then(|r| r.ok())
                .and_then(|b| serde_json::from_slice::<Problem>(&b).ok());
            let mut p = parsed.unwrap_or_else(|| Problem {
                type_uri: "about:blank".into(),
                title: status.canonical_reason().unwrap_or("Error").into(),
                status: status.as_u16(),
                detail: Some(
                    status
                        .canonical_reason()
                        .unwrap_or("request failed")
                        .to_owned(),
                ),
                instance: None,
                parameter: None,
                restart: None,
                pointer: None,
                errors: None,
            });
            p.instance = Some(instance);
            serde_json::to_vec(&p)
        }
    }
    .unwrap_or_default();
    let res: HttpResponse<BoxBody> = builder.body(body);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, res).map_into_right_body::<B>(),
    ))
}

fn instance_of(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{}", req.path(), q),
    }
}

/// A release number the dataset does not have is a 404 naming the releases it has.
impl From<crate::models::releases::FindError> for AppError {
    fn from(e: crate::models::releases::FindError) -> Self {
        use crate::models::releases::FindError;
        match e {
            FindError::Missing(missing) => AppError::NotFound(missing.to_string()),
            FindError::Database(e) => e.into(),
        }
    }
}
