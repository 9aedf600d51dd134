//! Request bodies of the write API and their validation. A body is read as JSON first: 400
//! `malformed-body` only when it is not JSON at all. It is then checked member by member against
//! what the operation takes, and every fault is collected: 422 `invalid-body` names each one
//! with a JSON Pointer in `errors` (`pointer` and `detail` repeat the first), so a client can
//! show each next to its field. Missing, unknown and mistyped members, values out of range and
//! rules across members are all faults of the same kind.
//!
//! The structs are the documented schemas (OpenAPI); the checks read the JSON itself, so each
//! fault is said in our words. A unit test keeps the member lists and the schemas equal.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use chrono::{Days, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::{AppError, BodyFault};
use crate::models::json_text::{self, found, pointer_token};
use crate::models::lang::Lang;
use crate::models::partial_date::PartialDate;
use crate::models::plan_edits::{
    COMPLETION_METRIC, Evidence, MilestoneEdit, NewProgressUpdate, Note,
};
use crate::models::vocab::MilestoneStatus;

/// Reads a request body of at most `limit` bytes (after any `Content-Encoding` is undone):
/// 413 naming the limit as soon as it is passed (at once when `Content-Length` says so), and
/// a read failure in the caller's words.
pub async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, AppError> {
    use futures_util::StreamExt;
    let too_large = || {
        AppError::TooLarge(format!(
            "the request body is larger than the limit of {limit} bytes"
        ))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let mut stream = actix_web::dev::Decompress::from_headers(payload.into_inner(), req.headers());
    let mut body = web::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(payload_error)?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A body that could not be read, in the caller's words (actix's are about its internals).
pub fn payload_error(e: actix_web::error::PayloadError) -> AppError {
    use actix_web::error::PayloadError;
    let detail = match e {
        PayloadError::Incomplete(_) => {
            "the body ended before all of it arrived (the connection closed, or Content-Length \
             says more than was sent); send it again"
        }
        PayloadError::EncodingCorrupted => {
            "the body cannot be decoded with the Content-Encoding it names (gzip, br, deflate \
             or zstd); send it as it is, or encoded as named"
        }
        PayloadError::Overflow => "the body is larger than the server takes",
        _ => "the body could not be read; send it again",
    };
    AppError::MalformedBody(detail.into())
}

const MAX_EVIDENCE: usize = 10;
const MAX_NOTE_CHARS: usize = 5000;
const MAX_TITLE_CHARS: usize = 300;
const MAX_URL_CHARS: usize = 2000;
const MAX_METRIC_CHARS: usize = 64;

/// A document that shows the progress: a report, a decision, a published dataset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// An `http` or `https` URL with a host (no user name or password); each URL once per write.
    #[schema(
        example = "https://khm.gov.ua/uk/content/rishennya-vykonkomu-2024-05",
        format = "uri",
        max_length = 2000
    )]
    pub url: String,
    #[schema(
        example = "Executive Committee decision of 2024-05",
        min_length = 1,
        max_length = 300
    )]
    pub title: Option<String>,
}

/// A text in one language.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// `uk`, `en` or `es`.
    #[schema(value_type = Lang, example = "uk")]
    pub lang: String,
    #[schema(example = "Геопортал опубліковано", min_length = 1, max_length = 5000)]
    pub text: String,
}

/// A change of a milestone: its status and/or completion, and a note, with the evidence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "complete", "completion": 100, "note": {"lang": "en", "text": "The geoportal is online."}, "evidence": [{"url": "https://mkk.khm.gov.ua/", "title": "Geoportal"}]}))]
pub struct MilestonePatch {
    /// `not_started`, `in_progress` or `complete` (null: not changed).
    #[schema(value_type = Option<MilestoneStatus>)]
    pub status: Option<String>,
    /// Percent complete, 0–100; recorded as a progress update (`metric: completion_percent`).
    #[schema(minimum = 0, maximum = 100)]
    pub completion: Option<f64>,
    pub note: Option<NoteBody>,
    /// 1–10 documents that show it; each becomes a source of the milestone. At least one of
    /// `status`, `completion` and `note` must be given too.
    #[schema(min_items = 1, max_items = 10)]
    pub evidence: Vec<EvidenceBody>,
}

/// A progress update of a milestone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reported_on": "2026-11", "occurred": "2026-10-30", "claim": {"lang": "uk", "text": "Опубліковано 12 нових реєстрів"}, "metric": "open_data_registers", "value": 95, "evidence": [{"url": "https://mkk.khm.gov.ua/"}]}))]
pub struct ProgressUpdateBody {
    /// When the report was made: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a date as precise as the
    /// report gives it, like every date the API serves); today (UTC) when absent. Not in the
    /// future.
    #[schema(pattern = r"^\d{4}(-\d{2}(-\d{2})?)?$", example = "2026-11")]
    pub reported_on: Option<String>,
    /// When the reported event happened, at the same precisions; not after `reported_on`.
    #[schema(pattern = r"^\d{4}(-\d{2}(-\d{2})?)?$", example = "2026-10-30")]
    pub occurred: Option<String>,
    /// What the update reports.
    pub claim: NoteBody,
    /// Machine name of a reported figure (`a-z`, `0-9`, `_`); given with `value`.
    #[schema(pattern = "^[a-z0-9_]{1,64}$")]
    pub metric: Option<String>,
    /// The figure; given with `metric` (`completion_percent`: 0–100).
    pub value: Option<f64>,
    #[schema(min_items = 1, max_items = 10)]
    pub evidence: Vec<EvidenceBody>,
}

/// The members of each body, in the order faults are reported.
const MILESTONE_PATCH_MEMBERS: [&str; 4] = ["status", "completion", "note", "evidence"];
const PROGRESS_UPDATE_MEMBERS: [&str; 6] = [
    "reported_on",
    "occurred",
    "claim",
    "metric",
    "value",
    "evidence",
];

/// Reads a write's body as JSON: 415 unless it is declared JSON, 400 unless it is JSON. A
/// number too large to hold is valid JSON, so it is a 422 naming its member.
pub fn parse_json(req: &HttpRequest, body: &[u8]) -> Result<Value, AppError> {
    check_json_media_type(req)?;
    // RFC 8259 lets a reader ignore a byte order mark.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::MalformedBody(
            "the body is empty: send a JSON object".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize::<_, Value>(&mut de)
        .map_err(|e| (json_text::pointer_of(e.path()), e.into_inner()))
        .and_then(|value| de.end().map(|()| value).map_err(|e| (String::new(), e)));
    match parsed {
        Ok(value) => Ok(value),
        Err((pointer, e)) if json_text::is_number_out_of_range(&e) => Err(AppError::invalid_body(
            pointer,
            "is a number too large to hold (beyond ±1.8e308)",
        )),
        Err((pointer, e)) => {
            // A deep nesting would make the pointer as long as the body: its start says where.
            let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
            let inside = match tokens.len() {
                0 => String::new(),
                1..=4 => format!(" (inside {pointer})"),
                _ => format!(" (inside /{}/…)", tokens[..4].join("/")),
            };
            Err(AppError::MalformedBody(format!(
                "the body is not valid JSON: {}{inside}",
                json_text::syntax_problem(&e)
            )))
        }
    }
}

/// 415 unless the body is declared JSON (`application/json` or a `+json` type) in UTF-8.
fn check_json_media_type(req: &HttpRequest) -> Result<(), AppError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Err(AppError::UnsupportedMediaType(
            "Content-Type is missing: send the body as JSON with Content-Type: application/json"
                .into(),
        ));
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase());
    let json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if !json {
        return Err(AppError::UnsupportedMediaType(format!(
            "Content-Type {text:?}: send the body as JSON with Content-Type: application/json"
        )));
    }
    if let Some(charset) = charset
        && charset != "utf-8"
        && charset != "utf8"
    {
        return Err(AppError::UnsupportedMediaType(format!(
            "Content-Type {text:?}: JSON is read as UTF-8 only (RFC 8259)"
        )));
    }
    Ok(())
}

/// The faults found in one body.
#[derive(Default)]
struct Faults(Vec<BodyFault>);

impl Faults {
    fn add(&mut self, pointer: impl Into<String>, detail: impl Into<String>) {
        self.0.push(BodyFault::new(pointer, detail));
    }

    fn check(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::InvalidBody(self.0))
        }
    }

    /// The object at `at`, with a fault for each member it should not have.
    fn object<'v>(
        &mut self,
        at: &str,
        value: &'v Value,
        members: &[&str],
        what: &str,
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(map) = value else {
            self.add(at, format!("expected {what}, found {}", found(value)));
            return None;
        };
        for name in map.keys() {
            if !members.contains(&name.as_str()) {
                self.add(
                    format!("{at}/{}", pointer_token(name)),
                    format!(
                        "is not a member of {what}; the members are {}",
                        members.join(", ")
                    ),
                );
            }
        }
        Some(map)
    }

    /// The string at `at`, or a fault naming what was expected.
    fn string<'v>(&mut self, at: &str, value: &'v Value, expected: &str) -> Option<&'v str> {
        let text = value.as_str();
        if text.is_none() {
            self.add(at, format!("expected {expected}, found {}", found(value)));
        }
        text
    }

    /// The number at `at`, or a fault naming what was expected.
    fn number(&mut self, at: &str, value: &Value, expected: &str) -> Option<f64> {
        let number = value.as_f64().filter(|_| value.is_number());
        if number.is_none() {
            self.add(at, format!("expected {expected}, found {}", found(value)));
        }
        number
    }

    /// A trimmed, non-empty text of at most `max` characters without control characters (but
    /// line breaks and tabs when `multiline`).
    fn text(&mut self, at: &str, value: &Value, max: usize, multiline: bool) -> Option<String> {
        let text = self.string(at, value, &format!("a text of 1 to {max} characters"))?;
        let text = text.trim();
        if text.is_empty() {
            self.add(at, "must not be empty");
            return None;
        }
        if text.chars().count() > max {
            self.add(at, format!("is longer than {max} characters"));
            return None;
        }
        if text
            .chars()
            .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
        {
            self.add(at, "contains control characters");
            return None;
        }
        Some(text.to_owned())
    }

    /// A text in one language, `{lang, text}`.
    fn note(&mut self, at: &str, value: &Value) -> Option<Note> {
        let map = self.object(at, value, &["lang", "text"], "a text {lang, text}")?;
        let lang_at = format!("{at}/lang");
        let lang = match given(map, "lang") {
            None => {
                self.add(lang_at, "is required: uk, en or es");
                None
            }
            Some(v) => self.string(&lang_at, v, "uk, en or es").and_then(|code| {
                match code.parse::<Lang>() {
                    Ok(lang) => Some(lang),
                    Err(_) => {
                        self.add(&lang_at, format!("{code:?} is not uk, en or es"));
                        None
                    }
                }
            }),
        };
        let text_at = format!("{at}/text");
        let text = match given(map, "text") {
            None => {
                self.add(text_at, "is required");
                None
            }
            Some(v) => self.text(&text_at, v, MAX_NOTE_CHARS, true),
        };
        Some(Note {
            lang: lang?,
            text: text?,
        })
    }

    /// A partial date, not in the future.
    fn date(&mut self, at: &str, value: &Value, future: &str) -> Option<PartialDate> {
        let text = self.string(at, value, "a date: YYYY, YYYY-MM or YYYY-MM-DD")?;
        let date = match text.parse::<PartialDate>() {
            Ok(date) => date,
            Err(message) => {
                self.add(at, message);
                return None;
            }
        };
        // A day of grace: the writer's today may be UTC's tomorrow.
        let latest_today = Utc::now().date_naive() + Days::new(1);
        if date.earliest() > latest_today {
            self.add(at, format!("{date} is in the future: {future}"));
            return None;
        }
        Some(date)
    }

    /// 1–10 documents `{url, title}`, each URL once.
    fn evidence(&mut self, value: Option<&Value>) -> Option<Vec<Evidence>> {
        let count = format!("1 to {MAX_EVIDENCE} documents that show the progress");
        let Some(value) = value else {
            self.add(
                "/evidence",
                format!("is required: give {count} (every fact needs a source)"),
            );
            return None;
        };
        let Value::Array(list) = value else {
            self.add(
                "/evidence",
                format!(
                    "expected an array of {count}, each {{url, title}}; found {}",
                    found(value)
                ),
            );
            return None;
        };
        if list.is_empty() || list.len() > MAX_EVIDENCE {
            self.add(
                "/evidence",
                format!(
                    "give {count} (every fact needs a source); found {}",
                    list.len()
                ),
            );
            return None;
        }
        let mut documents = Vec::with_capacity(list.len());
        let mut complete = true;
        for (i, item) in list.iter().enumerate() {
            let at = format!("/evidence/{i}");
            let Some(map) = self.object(&at, item, &["url", "title"], "a document {url, title}")
            else {
                complete = false;
                continue;
            };
            let url_at = format!("{at}/url");
            let url = match given(map, "url") {
                None => {
                    self.add(
                        url_at.clone(),
                        "is required: the document's http or https URL",
                    );
                    None
                }
                Some(v) => self
                    .string(&url_at, v, "an http or https URL")
                    .and_then(|text| self.url(&url_at, text)),
            };
            if let Some(url) = &url
                && let Some(first) = documents.iter().position(|d: &Evidence| &d.url == url)
            {
                self.add(&url_at, format!("repeats /evidence/{first}/url"));
            }
            let title = match given(map, "title") {
                None => Some(None),
                Some(v) => self
                    .text(&format!("{at}/title"), v, MAX_TITLE_CHARS, false)
                    .map(Some),
            };
            match (url, title) {
                (Some(url), Some(title)) => documents.push(Evidence { url, title }),
                _ => complete = false,
            }
        }
        complete.then_some(documents)
    }

    /// An http(s) URL with a host and without credentials, normalised.
    fn url(&mut self, at: &str, text: &str) -> Option<String> {
        let text = text.trim();
        if text.chars().count() > MAX_URL_CHARS {
            self.add(at, format!("is longer than {MAX_URL_CHARS} characters"));
            return None;
        }
        let shown = found(&Value::from(text));
        let Ok(url) = url::Url::parse(text) else {
            self.add(
                at,
                format!(
                    "expected an absolute http or https URL (e.g. https://khm.gov.ua/…), found \
                     {shown}"
                ),
            );
            return None;
        };
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            self.add(
                at,
                format!("must be an http or https URL with a host, found {shown}"),
            );
            return None;
        }
        if !url.username().is_empty() || url.password().is_some() {
            self.add(
                at,
                "must not hold a user name or password: the URL is published as a source",
            );
            return None;
        }
        Some(url.to_string())
    }
}

/// A member that is present and not null (null counts as absent, as many clients write it).
fn given<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    map.get(name).filter(|v| !v.is_null())
}

fn statuses() -> String {
    MilestoneStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A milestone change from a `PATCH /milestones/{id}` body.
pub fn milestone_edit(req: &HttpRequest, body: &[u8]) -> Result<MilestoneEdit, AppError> {
    let body = parse_json(req, body)?;
    let mut faults = Faults::default();
    let what = "a milestone change {status, completion, note, evidence}";
    let Some(map) = faults.object("", &body, &MILESTONE_PATCH_MEMBERS, what) else {
        return Err(AppError::InvalidBody(faults.0));
    };
    let status = given(map, "status").and_then(|v| {
        let text = faults.string("/status", v, &format!("one of {}", statuses()))?;
        match text.parse::<MilestoneStatus>() {
            Ok(status) => Some(status),
            Err(_) => {
                faults.add("/status", format!("{text:?} is not one of {}", statuses()));
                None
            }
        }
    });
    let completion = given(map, "completion")
        .and_then(|v| faults.number("/completion", v, "a number from 0 to 100 (percent)"))
        .and_then(|c| {
            if (0.0..=100.0).contains(&c) {
                Some(c)
            } else {
                faults.add("/completion", format!("{c} is outside 0 to 100 (percent)"));
                None
            }
        });
    let note = given(map, "note").and_then(|v| faults.note("/note", v));
    let evidence = faults.evidence(given(map, "evidence"));
    if ["status", "completion", "note"]
        .iter()
        .all(|m| given(map, m).is_none())
    {
        faults.add(
            "",
            "give at least one of status, completion or note (evidence alone changes nothing)",
        );
    }
    faults.check()?;
    Ok(MilestoneEdit {
        status,
        completion,
        note,
        evidence: evidence.unwrap_or_default(),
    })
}

/// A progress update from a `POST /milestones/{id}/progress-updates` body.
pub fn progress_update(req: &HttpRequest, body: &[u8]) -> Result<NewProgressUpdate, AppError> {
    let body = parse_json(req, body)?;
    let mut faults = Faults::default();
    let what = "a progress update {reported_on, occurred, claim, metric, value, evidence}";
    let Some(map) = faults.object("", &body, &PROGRESS_UPDATE_MEMBERS, what) else {
        return Err(AppError::InvalidBody(faults.0));
    };
    let reported_on = given(map, "reported_on").and_then(|v| {
        faults.date(
            "/reported_on",
            v,
            "a report is dated when it was made (leave it out for today)",
        )
    });
    let occurred = given(map, "occurred")
        .and_then(|v| faults.date("/occurred", v, "give the date the reported event happened"));
    if let Some(occurred) = occurred {
        let reported = reported_on.map_or_else(|| Utc::now().date_naive(), |d| d.latest());
        if occurred.earliest() > reported {
            let when = reported_on.map_or_else(
                || format!("today ({reported})"),
                |d| format!("reported_on {d}"),
            );
            faults.add(
                "/occurred",
                format!("{occurred} is after {when}: an event is reported after it happens"),
            );
        }
    }
    let claim = match given(map, "claim") {
        None => {
            faults.add(
                "/claim",
                "is required: what the update reports, {lang, text}",
            );
            None
        }
        Some(v) => faults.note("/claim", v),
    };
    let metric = given(map, "metric").and_then(|v| {
        let text = faults.string(
            "/metric",
            v,
            "a metric name of a-z, 0-9 and _ (e.g. open_data_registers)",
        )?;
        let ok = !text.is_empty()
            && text.len() <= MAX_METRIC_CHARS
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Some(text.to_owned())
        } else {
            faults.add(
                "/metric",
                format!(
                    "{text:?} is not a metric name: 1 to {MAX_METRIC_CHARS} characters of a-z, \
                     0-9 and _"
                ),
            );
            None
        }
    });
    let value = given(map, "value").and_then(|v| faults.number("/value", v, "a number"));
    // A figure means nothing without its name, a name nothing without its figure.
    match (given(map, "metric"), given(map, "value")) {
        (Some(_), None) => faults.add(
            "/value",
            "is required with metric: the figure the metric reports",
        ),
        (None, Some(_)) => faults.add(
            "/metric",
            "is required with value: the name of what the value measures (a-z, 0-9, _)",
        ),
        _ => {}
    }
    if let (Some(COMPLETION_METRIC), Some(v)) = (metric.as_deref(), value)
        && !(0.0..=100.0).contains(&v)
    {
        faults.add(
            "/value",
            format!("{v} is outside 0 to 100 ({COMPLETION_METRIC} is a percentage)"),
        );
    }
    let evidence = faults.evidence(given(map, "evidence"));
    faults.check()?;
    let claim =
        claim.ok_or_else(|| AppError::invalid_body("/claim", "is required: {lang, text}"))?;
    Ok(NewProgressUpdate {
        reported_on: reported_on.map(|d| d.to_string()),
        occurred: occurred.map(|d| d.to_string()),
        claim,
        metric,
        value,
        evidence: evidence.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The members each check takes are the members the OpenAPI document lists, and the
    /// required ones are required there.
    #[test]
    fn checked_members_are_the_documented_ones() {
        fn documented<T: utoipa::PartialSchema>() -> (Vec<String>, Vec<String>) {
            let schema = serde_json::to_value(T::schema()).unwrap();
            let names = |v: &Value| -> Vec<String> {
                match v {
                    Value::Object(m) => m.keys().cloned().collect(),
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect(),
                    _ => vec![],
                }
            };
            (names(&schema["properties"]), names(&schema["required"]))
        }
        let (members, required) = documented::<MilestonePatch>();
        assert_eq!(members, MILESTONE_PATCH_MEMBERS);
        assert_eq!(required, ["evidence"]);
        let (members, required) = documented::<ProgressUpdateBody>();
        assert_eq!(members, PROGRESS_UPDATE_MEMBERS);
        assert_eq!(required, ["claim", "evidence"]);
        let (members, required) = documented::<EvidenceBody>();
        assert_eq!(
            (members, required),
            (vec!["url".into(), "title".into()], vec!["url".into()])
        );
        let (members, required) = documented::<NoteBody>();
        assert_eq!(members, required);
        assert_eq!(members, ["lang", "text"]);
    }
}
