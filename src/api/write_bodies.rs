//! Request bodies of the write API and their validation. Each refusal names the member at fault
//! with a JSON Pointer, so a client can show it next to the field.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::models::lang::Lang;
use crate::models::plan_edits::{Evidence, MilestoneEdit, NewProgressUpdate, Note};
use crate::models::vocab::MilestoneStatus;

const MAX_EVIDENCE: usize = 10;
const MAX_NOTE_CHARS: usize = 5000;
const MAX_TITLE_CHARS: usize = 300;
const MAX_URL_CHARS: usize = 2000;

/// A document that shows the progress: a report, a decision, a published dataset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// An `http` or `https` URL.
    #[schema(example = "https://khm.gov.ua/uk/content/rishennya-vykonkomu-2024-05")]
    pub url: String,
    #[schema(example = "Executive Committee decision of 2024-05")]
    pub title: Option<String>,
}

/// A text in one language.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// `uk`, `en` or `es`.
    #[schema(example = "uk")]
    pub lang: String,
    #[schema(example = "Геопортал опубліковано")]
    pub text: String,
}

/// A change of a milestone: its status and/or completion, and a note, with the evidence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "complete", "completion": 100, "note": {"lang": "en", "text": "The geoportal is online."}, "evidence": [{"url": "https://mkk.khm.gov.ua/", "title": "Geoportal"}]}))]
pub struct MilestonePatch {
    /// `not_started`, `in_progress` or `complete`.
    pub status: Option<String>,
    /// Percent complete, 0–100; recorded as a progress update (`metric: completion_percent`).
    pub completion: Option<f64>,
    pub note: Option<NoteBody>,
    /// 1–10 documents that show it; each becomes a source of the milestone.
    pub evidence: Vec<EvidenceBody>,
}

/// A progress update of a milestone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reported_on": "2026-11-20", "claim": {"lang": "uk", "text": "Опубліковано 12 нових реєстрів"}, "metric": "open_data_registers", "value": 95, "evidence": [{"url": "https://mkk.khm.gov.ua/"}]}))]
pub struct ProgressUpdateBody {
    /// ISO date of the report; today (UTC) when absent.
    pub reported_on: Option<String>,
    /// What the update reports.
    pub claim: NoteBody,
    /// Machine name of a reported figure (`a-z`, `0-9`, `_`).
    pub metric: Option<String>,
    pub value: Option<f64>,
    pub evidence: Vec<EvidenceBody>,
}

fn invalid(pointer: &str, detail: impl Into<String>) -> AppError {
    AppError::InvalidBody {
        pointer: pointer.to_owned(),
        detail: format!("{pointer}: {}", detail.into()),
    }
}

fn check_text(pointer: &str, text: &str, max: usize, multiline: bool) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(pointer, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(invalid(pointer, format!("is longer than {max} characters")));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
    {
        return Err(invalid(pointer, "contains control characters"));
    }
    Ok(text.to_owned())
}

fn note(pointer: &str, body: &NoteBody) -> Result<Note, AppError> {
    let lang: Lang = body
        .lang
        .parse()
        .map_err(|e: String| invalid(&format!("{pointer}/lang"), e))?;
    let text = check_text(&format!("{pointer}/text"), &body.text, MAX_NOTE_CHARS, true)?;
    Ok(Note { lang, text })
}

fn evidence(list: &[EvidenceBody]) -> Result<Vec<Evidence>, AppError> {
    if list.is_empty() || list.len() > MAX_EVIDENCE {
        return Err(invalid(
            "/evidence",
            format!(
                "give 1 to {MAX_EVIDENCE} documents that show the progress (every fact needs a source)"
            ),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let at = format!("/evidence/{i}");
            let url_at = format!("{at}/url");
            if e.url.chars().count() > MAX_URL_CHARS {
                return Err(invalid(
                    &url_at,
                    format!("is longer than {MAX_URL_CHARS} characters"),
                ));
            }
            let url = url::Url::parse(e.url.trim())
                .map_err(|err| invalid(&url_at, format!("not a URL: {err}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(invalid(&url_at, "must be an http or https URL with a host"));
            }
            let title = e
                .title
                .as_deref()
                .map(|t| check_text(&format!("{at}/title"), t, MAX_TITLE_CHARS, false))
                .transpose()?;
            Ok(Evidence {
                url: url.to_string(),
                title,
            })
        })
        .collect()
}

fn finite(pointer: &str, value: Option<f64>) -> Result<Option<f64>, AppError> {
    match value {
        Some(v) if !v.is_finite() => Err(invalid(pointer, "must be a finite number")),
        other => Ok(other),
    }
}

impl MilestonePatch {
    pub fn into_edit(self) -> Result<MilestoneEdit, AppError> {
        let status = self
            .status
            .as_deref()
            .map(|s| {
                s.parse::<MilestoneStatus>().map_err(|_| {
                    invalid(
                        "/status",
                        format!("{s:?} is not one of not_started, in_progress, complete"),
                    )
                })
            })
            .transpose()?;
        let completion = finite("/completion", self.completion)?;
        if let Some(c) = completion
            && !(0.0..=100.0).contains(&c)
        {
            return Err(invalid(
                "/completion",
                format!("{c} is outside 0..=100 (percent)"),
            ));
        }
        let note = self.note.as_ref().map(|n| note("/note", n)).transpose()?;
        if status.is_none() && completion.is_none() && note.is_none() {
            return Err(invalid("", "give at least one of status, completion, note"));
        }
        Ok(MilestoneEdit {
            status,
            completion,
            note,
            evidence: evidence(&self.evidence)?,
        })
    }
}

impl ProgressUpdateBody {
    pub fn into_update(self) -> Result<NewProgressUpdate, AppError> {
        let reported_on = self
            .reported_on
            .as_deref()
            .map(|d| {
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map(|d| d.to_string())
                    .map_err(|_| {
                        invalid("/reported_on", format!("{d:?} is not a date (YYYY-MM-DD)"))
                    })
            })
            .transpose()?;
        let metric = self
            .metric
            .map(|m| {
                let ok = !m.is_empty()
                    && m.len() <= 64
                    && m.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if ok {
                    Ok(m)
                } else {
                    Err(invalid(
                        "/metric",
                        "must be 1-64 characters of a-z, 0-9 and _",
                    ))
                }
            })
            .transpose()?;
        let value = finite("/value", self.value)?;
        if value.is_some() && metric.is_none() {
            return Err(invalid("/metric", "a value needs the metric it measures"));
        }
        Ok(NewProgressUpdate {
            reported_on,
            claim: note("/claim", &self.claim)?,
            metric,
            value,
            evidence: evidence(&self.evidence)?,
        })
    }
}
