//! `/api/v1/registries/{slug}/imports`: staff upload a CSV or GeoJSON file, which becomes the
//! registry's next release if it passes the same validation as the command-line import.
//!
//! The body is streamed to a temporary file (never under the client's file name) under a size
//! limit, hashed on the way; the upload is recorded as `running` before the import starts, so a
//! crash leaves a trace (`interrupted` after restart), and recorded as `published` in the same
//! transaction that publishes the release.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::Authenticated;
use crate::app::AppState;
use crate::error::AppError;
use crate::middleware::metrics::ImportOutcome;
use crate::models::registries::import::{self, FileFormat, ImportError, ImportProblem};
use crate::models::registries::{self, hex};
use crate::models::releases::{self, Release};
use crate::models::uploads::{self, Ran, RunError, Upload, UploadRun};

const MAX_KEY_CHARS: usize = 200;
const MAX_FILE_NAME_CHARS: usize = 255;
const LIST_LIMIT_MAX: u32 = 200;

/// What an upload did.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadOutcome {
    pub upload: Upload,
    /// The release it published.
    pub release: Option<Release>,
}

/// Uploads of a registry, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadList {
    pub items: Vec<Upload>,
    pub total: i64,
    /// `before` for the next (older) page.
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListUploadsParams {
    /// 1–200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// Uploads with ids below this (from `next_before`).
    #[param(value_type = Option<i64>)]
    pub before: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// `true` to accept a file without items (a CSV with only its header line, a
    /// FeatureCollection with no features), which removes every item of the registry. Without
    /// it such a file is refused (422), since an empty file is more often an accident than a
    /// wish.
    #[param(value_type = Option<bool>)]
    pub allow_empty: Option<String>,
}

impl UploadParams {
    fn allow_empty(&self) -> Result<bool, AppError> {
        match self.allow_empty.as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(AppError::invalid(
                "allow_empty",
                format!("{other:?} is not true or false"),
            )),
        }
    }
}

crate::api::openapi::written_schema!(
    /// A registry file as an RFC 7946 FeatureCollection: every item, one feature each.
    FeatureCollectionUpload,
    [crate::api::v1::registries::Geometry],
    serde_json::json!({
        "type": "object",
        "description": "A registry file as an RFC 7946 FeatureCollection: every item of the \
            registry, one feature each (other members, such as bbox, are ignored).",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {
                            "type": ["string", "number"],
                            "description": "Stands in for the id field when the properties \
                                leave it out.",
                        },
                        "geometry": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/Geometry"},
                                {"type": "null"},
                            ],
                        },
                        "properties": {
                            "type": ["object", "null"],
                            "description": "The item's field values by name.",
                        },
                    },
                },
            },
        },
    })
);

/// The media types an upload may have, for refusals.
const ACCEPTED_TYPES: &str = "text/csv (UTF-8, comma or semicolon), application/geo+json or application/json (a GeoJSON \
     FeatureCollection)";

/// The upload's format from its media type, else its file name's extension.
fn format_of(req: &HttpRequest, file_name: Option<&str>) -> Result<(FileFormat, String), AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mut parts = content_type.as_deref().unwrap_or_default().split(';');
    let media_type = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, value)| value.trim().trim_matches('"').to_ascii_lowercase());
    // Files are read as UTF-8; any other declared charset would be misread, not converted.
    if let Some(charset) = charset
        && charset != "utf-8"
        && charset != "utf8"
    {
        return Err(AppError::UnsupportedMediaType(format!(
            "Content-Type {:?}: files are read as UTF-8 only; save the file as UTF-8 (in Excel: \
             \"CSV UTF-8\") and send charset=utf-8 or no charset",
            content_type.unwrap_or_default()
        )));
    }
    let by_type = match media_type.as_str() {
        "text/csv" => Some(FileFormat::Csv),
        "application/geo+json" | "application/json" => Some(FileFormat::GeoJson),
        _ => None,
    };
    let by_name = file_name.and_then(|n| FileFormat::from_path(std::path::Path::new(n)));
    match (by_type, by_name) {
        (Some(format), _) => Ok((format, media_type)),
        (None, Some(format)) => {
            let name = match format {
                FileFormat::Csv => "text/csv",
                FileFormat::GeoJson => "application/geo+json",
            };
            Ok((format, name.to_owned()))
        }
        (None, None) if media_type == "multipart/form-data" => {
            Err(AppError::UnsupportedMediaType(format!(
                "Content-Type multipart/form-data: send the file itself as the body, not a form \
                 (curl --data-binary @file.csv, not -F); accepted: {ACCEPTED_TYPES}"
            )))
        }
        (None, None) => Err(AppError::UnsupportedMediaType(format!(
            "Content-Type {}: accepted: {ACCEPTED_TYPES}; without a Content-Type, a file name \
             ending in .csv, .geojson or .json in Content-Disposition",
            match content_type {
                Some(t) => format!("{t:?}"),
                None => "missing".to_owned(),
            }
        ))),
    }
}

/// The client's name for the file, from `Content-Disposition: attachment; filename="…"`. Kept as
/// metadata only; names with path parts or control characters are refused so that no log or
/// listing ever shows a misleading path.
fn file_name_of(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get(header::CONTENT_DISPOSITION) else {
        return Ok(None);
    };
    let bad = |detail: &str| AppError::InvalidParameter {
        parameter: Some("Content-Disposition".into()),
        detail: format!("Content-Disposition: {detail}"),
    };
    let parsed = header::ContentDisposition::from_raw(value)
        .map_err(|_| bad("not a valid header (attachment; filename=\"name.csv\")"))?;
    let Some(name) = parsed.get_filename().map(str::to_owned).or_else(|| {
        parsed
            .get_filename_ext()
            .map(|ext| String::from_utf8_lossy(&ext.value).into_owned())
    }) else {
        return Ok(None);
    };
    if name.is_empty()
        || name.chars().count() > MAX_FILE_NAME_CHARS
        || name == "."
        || name == ".."
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
    {
        return Err(bad(&format!(
            "file name {name:?} must be a plain name of 1 to {MAX_FILE_NAME_CHARS} characters, \
             without path separators or control characters"
        )));
    }
    Ok(Some(name))
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim().trim_matches('"');
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::InvalidParameter {
            parameter: Some("Idempotency-Key".into()),
            detail: format!(
                "Idempotency-Key: give 1 to {MAX_KEY_CHARS} visible ASCII characters (e.g. a UUID)"
            ),
        });
    }
    Ok(Some(key.to_owned()))
}

/// A body streamed to a temporary file.
struct Spooled {
    file: tempfile::NamedTempFile,
    bytes: u64,
    sha256: String,
}

async fn spool(mut payload: web::Payload, state: &AppState) -> Result<Spooled, AppError> {
    let limits = &state.uploads;
    let dir = limits.dir.clone().unwrap_or_else(std::env::temp_dir);
    let internal =
        |e: std::io::Error| AppError::Internal(format!("upload spool in {}: {e}", dir.display()));
    let mut file = tempfile::Builder::new()
        .prefix("opengov-upload-")
        .tempfile_in(&dir)
        .map_err(internal)?;
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(crate::api::write_bodies::payload_error)?;
        bytes += chunk.len() as u64;
        if bytes > limits.max_bytes {
            return Err(AppError::TooLarge(format!(
                "the upload is larger than {} bytes, the most one import may have",
                limits.max_bytes
            )));
        }
        hasher.update(&chunk);
        // Small synchronous writes to a local temporary file; the import itself runs off the
        // event loop.
        file.write_all(&chunk).map_err(internal)?;
    }
    file.flush().map_err(internal)?;
    Ok(Spooled {
        file,
        bytes,
        sha256: hex(&hasher.finalize()),
    })
}

/// The answer for an upload that was made before under the same idempotency key.
fn replay(
    earlier: Upload,
    sha256: &str,
    release: Option<Release>,
) -> Result<HttpResponse, AppError> {
    if earlier.sha256 != sha256 {
        return Err(AppError::invalid_body(
            "",
            format!(
                "Idempotency-Key was used for upload {} with a different file; use a new key for a new file",
                earlier.id
            ),
        ));
    }
    match earlier.status.as_str() {
        uploads::PUBLISHED => Ok(HttpResponse::Ok()
            .insert_header(("Idempotent-Replayed", "true"))
            .insert_header((header::LOCATION, location(&earlier)))
            .json(UploadOutcome {
                upload: earlier,
                release,
            })),
        uploads::REJECTED => {
            let problem = earlier
                .problem_json
                .as_deref()
                .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
                .unwrap_or_default();
            let status = problem
                .get("status")
                .and_then(serde_json::Value::as_u64)
                .and_then(|s| StatusCode::from_u16(s as u16).ok())
                .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            Ok(HttpResponse::build(status)
                .content_type(crate::error::PROBLEM_JSON)
                .insert_header(("Idempotent-Replayed", "true"))
                .json(problem))
        }
        _ => Err(AppError::Conflict(format!(
            "upload {} with this Idempotency-Key is still running; ask again later",
            earlier.id
        ))),
    }
}

fn location(upload: &Upload) -> String {
    format!(
        "/api/v1/registries/{}/imports/{}",
        upload.registry, upload.id
    )
}

/// How a refused upload reads to the caller (and is recorded in the upload).
fn refusal(e: &ImportError) -> AppError {
    match e {
        ImportError::Refused { problems, total } => {
            let first = problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            AppError::ImportRefused {
                detail: format!(
                    "the file was refused, nothing changed: {total} problem(s); first: {first}"
                ),
                errors: serde_json::to_value(problems).unwrap_or_default(),
            }
        }
        ImportError::Empty { registry, items } => {
            let message = import::empty_file_message(registry, *items);
            let problem = ImportProblem {
                line: None,
                column: None,
                pointer: None,
                message: message.clone(),
            };
            AppError::ImportRefused {
                detail: format!(
                    "the file was refused, nothing changed: {message}; to remove every \
                     item deliberately, send the file again with ?allow_empty=true"
                ),
                errors: serde_json::to_value([problem]).unwrap_or_default(),
            }
        }
        ImportError::Precondition(detail) => AppError::PreconditionFailed(detail.clone()),
        ImportError::Database(e) => AppError::Internal(e.to_string()),
    }
}

fn run_error(e: RunError) -> AppError {
    match e {
        RunError::NoRegistry(_) => AppError::NotFound(e.to_string()),
        RunError::Rejected(refused) => refusal(&refused),
        RunError::Spool(_) | RunError::Vanished(_) => AppError::Internal(e.to_string()),
        RunError::Database(e) => e.into(),
    }
}

/// Upload a registry file as its next release (scope `registry:<slug>:publish`).
///
/// The body is the file itself: `Content-Type: text/csv` (comma or semicolon, UTF-8), or a
/// GeoJSON FeatureCollection as `application/geo+json` or `application/json`; an optional
/// `Content-Disposition: attachment; filename="…"` names it. The same validation as the
/// command-line import runs; a refused file changes nothing (422 `import-refused` with every
/// problem: its CSV line and column, or its GeoJSON feature and JSON Pointer). A file without
/// items removes every item, so it is refused unless `allow_empty=true`. `Idempotency-Key`
/// makes a retry answer with the first outcome instead of publishing twice (409 while the first
/// still runs); `If-Match` with an ETag of a read of the registry's items makes it fail (412) if
/// another release was published since.
#[utoipa::path(
    tag = "registries",
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        ("Idempotency-Key" = Option<String>, Header, description = "Unique per upload (e.g. a UUID); a retry with the same key and file answers with the first outcome"),
        ("If-Match" = Option<String>, Header, description = "ETag of a read of the registry's items: publish only if no release came since"),
        ("Content-Disposition" = Option<String>, Header, description = "`attachment; filename=\"name.csv\"` (kept as metadata)"),
        UploadParams,
    ),
    request_body(content(
        (String = "text/csv"),
        (FeatureCollectionUpload = "application/geo+json"),
        (FeatureCollectionUpload = "application/json"),
    ), description = "The file itself: CSV with a header line (comma or semicolon, UTF-8), or a GeoJSON FeatureCollection"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Published as the next release", body = UploadOutcome,
            headers(("Location" = String, description = "The upload's record"))),
        (status = 200, description = "A retry of an upload that was published (same Idempotency-Key and file)", body = UploadOutcome),
    )
)]
#[post(
    "/registries/{slug}/imports",
    wrap = "actix_web::middleware::from_fn(crate::api::auth::registry_publisher)"
)]
pub async fn upload_file(
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<UploadParams>,
    auth: Authenticated,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let actor = auth.0;
    let allow_empty = params.allow_empty()?;
    let file_name = file_name_of(&req)?;
    let (format, media_type) = format_of(&req, file_name.as_deref())?;
    let key = idempotency_key(&req)?;
    let dataset = releases::registry_dataset(&slug);
    let expected = crate::api::release::if_match(&req, &dataset)?;
    let checked = slug.clone();
    state
        .on_primary(move |conn| uploads::precheck(conn, &checked, expected).map_err(run_error))
        .await?;
    let metrics = state.metrics.clone();
    let counted = slug.clone();
    let count = |outcome: ImportOutcome, took: Option<std::time::Duration>| {
        if let Some(metrics) = &metrics {
            metrics.import_finished(&counted, outcome, took);
        }
    };
    let spooled = match spool(payload, &state).await {
        Ok(spooled) => spooled,
        Err(e) => {
            count(ImportOutcome::of_error(&e), None);
            return Err(e);
        }
    };
    let sha256 = spooled.sha256.clone();
    let max_rows = state.uploads.max_rows;
    let started = std::time::Instant::now();
    let ran = state
        .on_primary(move |conn| -> Result<_, AppError> {
            let label = actor.label();
            let upload = UploadRun {
                slug: &slug,
                actor: &label,
                file_name: file_name.as_deref(),
                media_type: &media_type,
                idempotency_key: key.as_deref(),
                format,
                expected,
                max_rows,
                allow_empty,
                path: spooled.file.path(),
                bytes: spooled.bytes,
                sha256: &spooled.sha256,
            };
            uploads::run(conn, &upload, |refused| {
                serde_json::to_value(refusal(refused).to_problem(None)).unwrap_or_default()
            })
            .map_err(run_error)
        })
        .await;
    let took = started.elapsed();
    let imported = !matches!(ran, Ok(Ran::Replayed(..)));
    let (answer, outcome) = match ran {
        Ok(Ran::Replayed(earlier, release)) => {
            let answer = replay(earlier, &sha256, release);
            let outcome = match &answer {
                Ok(_) => ImportOutcome::Replayed,
                Err(e) => ImportOutcome::of_error(e),
            };
            (answer, outcome)
        }
        Ok(Ran::Done(upload, release)) => {
            let mut response = HttpResponse::Created();
            response.insert_header((header::LOCATION, location(&upload)));
            if let Some(r) = &release {
                crate::http::release::stamp(&mut response, r);
            }
            let answer = Ok(response.json(UploadOutcome { upload, release }));
            (answer, ImportOutcome::Published)
        }
        Err(e) => {
            let outcome = ImportOutcome::of_error(&e);
            (Err(e), outcome)
        }
    };
    // A replay imports nothing; its time would blur the import durations.
    count(outcome, imported.then_some(took));
    answer
}

/// List a registry's uploads, newest first (scope `registry:<slug>:publish` or `admin`).
#[utoipa::path(
    tag = "registries",
    params(("slug" = String, Path, description = "Registry slug", example = "territorial-units"), ListUploadsParams),
    security(("bearer" = [])),
    responses((status = 200, description = "Uploads, newest first", body = UploadList))
)]
#[get(
    "/registries/{slug}/imports",
    wrap = "actix_web::middleware::from_fn(crate::api::auth::registry_publisher)"
)]
pub async fn list_uploads(
    path: web::Path<String>,
    params: web::Query<ListUploadsParams>,
    _admitted: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let limit = i64::from(crate::api::pagination::limit_within(
        params.limit.as_deref(),
        50,
        LIST_LIMIT_MAX,
    )?);
    let before = params
        .before
        .as_deref()
        .map(|raw| {
            raw.parse::<i64>().map_err(|_| {
                AppError::invalid(
                    "before",
                    format!("{raw:?} is not an upload id (a whole number, from next_before)"),
                )
            })
        })
        .transpose()?;
    let (items, total) = state
        .on_primary(move |conn| -> Result<_, AppError> {
            if registries::find_row(conn, &slug)?.is_none() {
                return Err(AppError::NotFound(format!(
                    "no registry with slug {slug:?}"
                )));
            }
            uploads::mark_interrupted(conn, false)?;
            Ok(uploads::list(conn, &slug, before, limit)?)
        })
        .await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|u| u.id))
        .flatten();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(UploadList {
            items,
            total,
            next_before,
        }))
}

/// One upload and what became of it (scope `registry:<slug>:publish` or `admin`).
#[utoipa::path(
    tag = "registries",
    params(("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        ("upload_id" = i64, Path, description = "Upload id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The upload", body = Upload))
)]
#[get(
    "/registries/{slug}/imports/{upload_id}",
    wrap = "actix_web::middleware::from_fn(crate::api::auth::registry_publisher)"
)]
pub async fn get_upload(
    path: web::Path<(String, String)>,
    _admitted: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (slug, raw_id) = path.into_inner();
    // Upload ids are whole numbers; anything else names no upload.
    let Ok(id) = raw_id.parse::<i64>() else {
        return Err(AppError::NotFound(format!(
            "registry {slug:?} has no upload {raw_id:?} (upload ids are whole numbers)"
        )));
    };
    let found = state
        .on_primary(move |conn| -> Result<_, AppError> {
            uploads::mark_interrupted(conn, false)?;
            Ok(uploads::find(conn, id)?)
        })
        .await?;
    match found {
        Some(upload) if upload.registry == slug => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .json(upload)),
        _ => Err(AppError::NotFound(format!(
            "registry {slug:?} has no upload {id}"
        ))),
    }
}
