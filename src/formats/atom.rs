//! Atom (RFC 4287) documents from plan activity and releases, written with `atom_syndication`.
//! No actix types here: the handlers in `v1/feeds.rs` give the public URLs and the language.
//!
//! Ids are `tag:` URIs (RFC 4151) built from the dataset, the release number and the record, so
//! they are the same on every host and after every restart. The words around the data are
//! English; the data's own texts (titles, claims, notes) come in the requested language or its
//! fallback, and a record without any text is named by its id.

use atom_syndication::{
    Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text,
};

use crate::error::AppError;
use crate::models::feeds::{PlanActivity, RegistryLabel, ReleaseFeed, ReportsOn, Versions};
use crate::models::lang::{LangContext, TextBundle};
use crate::models::milestones::MilestoneRow;
use crate::models::progress::ProgressUpdateRow;
use crate::models::releases::{self, Op, Release};

/// The media type of every feed.
pub const ATOM: &str = "application/atom+xml; charset=utf-8";

/// The authority and date of every `tag:` URI this service mints (as in its problem types).
const TAG: &str = "tag:opengov-api,2026:";

/// Where the feed is served: `base` is the public scheme and host, `self_url` the feed's own
/// absolute URL (with its query).
pub struct FeedUrls {
    pub base: String,
    pub self_url: String,
}

impl FeedUrls {
    fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// The plan activity feed: one entry per change event of a milestone or progress update.
pub fn plan_activity(
    urls: &FeedUrls,
    ctx: &LangContext,
    activity: &[PlanActivity],
) -> Result<Feed, AppError> {
    let entries = activity
        .iter()
        .map(|a| activity_entry(urls, ctx, a))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(feed(
        urls,
        format!("{TAG}feeds/plan"),
        "Action plan activity: milestones and progress updates".into(),
        Some(
            "Milestones created, changed (with their status before and after) or removed, and \
             progress updates reported or corrected, newest first, as the plan's releases \
             published them."
                .into(),
        ),
        ("/api/v1/milestones", "The milestones (JSON)"),
        entries,
    ))
}

/// Every dataset's releases (`registry` = `None`), or one registry's.
pub fn releases(
    urls: &FeedUrls,
    ctx: &LangContext,
    registry: Option<&str>,
    found: &ReleaseFeed,
) -> Result<Feed, AppError> {
    let entries = found
        .releases
        .iter()
        .map(|r| release_entry(urls, ctx, r, found))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(match registry {
        None => feed(
            urls,
            format!("{TAG}feeds/releases"),
            "Releases of the plan and of every registry".into(),
            Some(
                "Every numbered, immutable release of the action plan data and of each \
                 registry, newest first, with its counts of added, changed and removed records \
                 and the SHA-256 of its canonical export."
                    .into(),
            ),
            ("/api/v1", "The API index (JSON)"),
            entries,
        ),
        Some(slug) => {
            let label = found.registries.get(slug);
            let sample = if label.is_some_and(|l| l.sample) {
                " (sample data)"
            } else {
                ""
            };
            feed(
                urls,
                format!("{TAG}feeds/registries/{slug}"),
                format!("{slug}: releases{sample}"),
                label.and_then(|l| registry_words(ctx, l)),
                (
                    &format!("/api/v1/registries/{slug}/releases"),
                    "These releases (JSON)",
                ),
                entries,
            )
        }
    })
}

/// The Atom document as UTF-8 XML.
pub fn to_xml(feed: &Feed) -> Result<Vec<u8>, AppError> {
    feed.write_to(Vec::new())
        .map_err(|e| AppError::Internal(format!("writing an Atom feed: {e}")))
}

fn feed(
    urls: &FeedUrls,
    id: String,
    title: String,
    subtitle: Option<String>,
    alternate: (&str, &str),
    entries: Vec<Entry>,
) -> Feed {
    // The newest entry's time; an empty feed has none, so it says when it was generated.
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or_else(|| chrono::Utc::now().fixed_offset());
    Feed {
        id,
        title: text(&title),
        subtitle: subtitle.as_deref().map(text),
        updated,
        authors: vec![Person {
            name: "opengov-api".into(),
            uri: Some(urls.absolute("/api/v1")),
            ..Person::default()
        }],
        generator: Some(Generator {
            value: "opengov-api".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        links: vec![
            link(
                "self",
                urls.self_url.clone(),
                "application/atom+xml",
                "This feed",
            ),
            link(
                "alternate",
                urls.absolute(alternate.0),
                "application/json",
                alternate.1,
            ),
        ],
        entries,
        ..Feed::default()
    }
}

fn release_entry(
    urls: &FeedUrls,
    ctx: &LangContext,
    release: &Release,
    found: &ReleaseFeed,
) -> Result<Entry, AppError> {
    let n = release.number;
    let slug = releases::registry_of(&release.dataset);
    let label = slug.and_then(|s| found.registries.get(s));
    let sample = label.is_some_and(|l| l.sample);
    let (name, release_path, data_path, canonical_path) = match slug {
        Some(s) => (
            s,
            format!("/api/v1/registries/{s}/releases/{n}"),
            format!("/api/v1/registries/{s}/items?release={n}"),
            format!("/api/v1/registries/{s}/items.ndjson?release={n}"),
        ),
        None => (
            releases::PLAN,
            format!("/api/v1/plan/releases/{n}"),
            format!("/api/v1/commitments?release={n}"),
            format!("/api/v1/plan/releases/{n}/records"),
        ),
    };
    let mut summary = Vec::new();
    if let Some(words) = label.and_then(|l| registry_words(ctx, l)) {
        summary.push(words);
    }
    summary.push(format!(
        "Release {n} of {}: {} records; {} added, {} changed, {} removed. SHA-256 of the \
         canonical export: {}. Origin: {}.",
        release.dataset,
        release.row_count,
        release.added,
        release.changed,
        release.removed,
        release.sha256,
        release.origin,
    ));
    let time = timestamp(&release.created_at)?;
    Ok(Entry {
        id: format!("{TAG}{}/releases/{n}", release.dataset),
        title: text(&format!(
            "{name}: release {n}{}",
            if sample { " (sample data)" } else { "" }
        )),
        updated: time,
        published: Some(time),
        summary: Some(text(&summary.join("\n"))),
        categories: vec![category(&release.dataset)],
        links: vec![
            link(
                "alternate",
                urls.absolute(&release_path),
                "application/json",
                "The release",
            ),
            link(
                "related",
                urls.absolute(&data_path),
                "application/json",
                "The data at this release",
            ),
            link(
                "related",
                urls.absolute(&canonical_path),
                "application/x-ndjson",
                "The canonical export (what sha256 covers)",
            ),
        ],
        ..Entry::default()
    })
}

/// A registry's title and, for sample data, its note (which says so in its own words; plain
/// "Sample data." when it has none).
fn registry_words(ctx: &LangContext, label: &RegistryLabel) -> Option<String> {
    let mut words = Vec::new();
    if let Some(title) = ctx.pick(&label.texts, "title") {
        words.push(title.value);
    }
    if label.sample {
        words.push(match ctx.pick(&label.texts, "sample_note") {
            Some(note) => note.value,
            None => "Sample data.".into(),
        });
    }
    (!words.is_empty()).then(|| words.join("\n"))
}

fn activity_entry(urls: &FeedUrls, ctx: &LangContext, a: &PlanActivity) -> Result<Entry, AppError> {
    let n = a.release.number;
    // A deleted record is last readable at the release before the one that removed it.
    let pinned_at = if a.op == Op::Deleted { n - 1 } else { n };
    let (record_type, title, mut lines, path) = match &a.versions {
        Versions::Milestone { before, after } => {
            let (title, lines) = milestone_words(ctx, a, before.as_ref(), after.as_ref());
            let path = format!("/api/v1/milestones/{}?release={pinned_at}", a.record_id);
            ("milestones", title, lines, path)
        }
        Versions::ProgressUpdate { before, after } => {
            let (title, lines) = progress_words(ctx, a, before.as_ref(), after.as_ref());
            let path = match &a.reports_on {
                Some((ReportsOn::Milestone(id), _)) => format!("/api/v1/milestones/{id}"),
                Some((ReportsOn::Commitment(id), _)) => format!("/api/v1/commitments/{id}"),
                Some((ReportsOn::Plan(id), _)) => format!("/api/v1/plans/{id}"),
                None => format!("/api/v1/plan/releases/{pinned_at}/records"),
            };
            let path = match a.reports_on {
                Some(_) => format!("{path}?release={pinned_at}&expand=progress_updates"),
                None => path,
            };
            ("progress_updates", title, lines, path)
        }
    };
    if !a.changed_fields.is_empty() {
        lines.push(format!("Changed fields: {}.", a.changed_fields.join(", ")));
    }
    lines.push(format!(
        "Plan release {n}, published {}.",
        a.release.created_at
    ));
    let url = urls.absolute(&path);
    lines.push(format!("As of plan release {pinned_at}: {url}"));
    let time = timestamp(&a.release.created_at)?;
    Ok(Entry {
        id: format!("{TAG}plan/releases/{n}/{record_type}/{}", a.record_id),
        title: text(&title),
        updated: time,
        published: Some(time),
        content: Some(Content {
            value: Some(xml_text(&lines.join("\n"))),
            content_type: Some("text".into()),
            ..Content::default()
        }),
        categories: vec![category(record_type), category(a.op.as_str())],
        links: vec![
            link(
                "alternate",
                url,
                "application/json",
                &format!("As of plan release {pinned_at}"),
            ),
            link(
                "related",
                urls.absolute(&format!("/api/v1/plan/releases/{n}")),
                "application/json",
                "The plan release",
            ),
        ],
        ..Entry::default()
    })
}

fn status(row: Option<&MilestoneRow>) -> &str {
    row.and_then(|r| r.status.as_deref()).unwrap_or("unknown")
}

fn milestone_words(
    ctx: &LangContext,
    a: &PlanActivity,
    before: Option<&MilestoneRow>,
    after: Option<&MilestoneRow>,
) -> (String, Vec<String>) {
    let name = name_of(ctx, &a.texts, "title", &a.record_id);
    let title = match a.op {
        Op::Created => format!("Milestone created ({}): {name}", status(after)),
        Op::Deleted => format!("Milestone removed: {name}"),
        Op::Updated if status(before) != status(after) => {
            format!(
                "Milestone status {} → {}: {name}",
                status(before),
                status(after)
            )
        }
        Op::Updated => format!("Milestone changed: {name}"),
    };
    let mut lines = Vec::new();
    if let Some(row) = after.or(before) {
        lines.push(format!(
            "Milestone {} of commitment {}.",
            row.id, row.commitment_id
        ));
    }
    let reported_by = after
        .and_then(|r| r.status_source_id.as_deref())
        .map(|s| format!(" (reported by source {s})"))
        .unwrap_or_default();
    match a.op {
        Op::Created => lines.push(format!("Status: {}{reported_by}.", status(after))),
        Op::Updated => lines.push(format!(
            "Status: {} → {}{reported_by}.",
            status(before),
            status(after)
        )),
        Op::Deleted => lines.push(format!("Last status: {}.", status(before))),
    }
    (title, lines)
}

fn progress_words(
    ctx: &LangContext,
    a: &PlanActivity,
    before: Option<&ProgressUpdateRow>,
    after: Option<&ProgressUpdateRow>,
) -> (String, Vec<String>) {
    let claim = name_of(ctx, &a.texts, "claim", &a.record_id);
    let verb = match a.op {
        Op::Created => "reported",
        Op::Updated => "changed",
        Op::Deleted => "removed",
    };
    let title = format!("Progress update {verb}: {claim}");
    let mut lines = Vec::new();
    let about = match &a.reports_on {
        Some((on, texts)) => {
            let (kind, field) = match on {
                ReportsOn::Milestone(_) => ("milestone", "title"),
                ReportsOn::Commitment(_) => ("commitment", "title"),
                ReportsOn::Plan(_) => ("plan", "title"),
            };
            match ctx.pick(texts, field) {
                Some(t) => format!(" on {kind} {} “{}”", on.id(), t.value),
                None => format!(" on {kind} {}", on.id()),
            }
        }
        None => String::new(),
    };
    lines.push(format!("Progress update {}{about}.", a.record_id));
    if let Some(row) = after.or(before) {
        if let Some(day) = &row.reported_on {
            lines.push(format!("Reported on {day}."));
        }
        if let Some(metric) = &row.metric {
            let value = |r: Option<&ProgressUpdateRow>| {
                r.and_then(|r| r.value)
                    .map_or_else(|| "unknown".to_owned(), |v| v.to_string())
            };
            let old = before.filter(|_| a.op == Op::Updated);
            match old {
                Some(old) if old.value != row.value => lines.push(format!(
                    "{metric}: {} → {}.",
                    value(Some(old)),
                    value(Some(row))
                )),
                _ => lines.push(format!("{metric}: {}.", value(Some(row)))),
            }
        }
    }
    (title, lines)
}

/// A text of the record in the requested language (or its fallback), else the record's id.
fn name_of(ctx: &LangContext, texts: &TextBundle, field: &str, id: &str) -> String {
    ctx.pick(texts, field)
        .map_or_else(|| id.to_owned(), |t| t.value)
}

fn timestamp(rfc3339: &str) -> Result<FixedDateTime, AppError> {
    FixedDateTime::parse_from_rfc3339(rfc3339)
        .map_err(|e| AppError::Internal(format!("stored time {rfc3339:?}: {e}")))
}

fn text(value: &str) -> Text {
    Text::plain(xml_text(value))
}

fn link(rel: &str, href: String, media_type: &str, title: &str) -> Link {
    Link {
        rel: rel.into(),
        href,
        mime_type: Some(media_type.into()),
        title: Some(title.into()),
        ..Link::default()
    }
}

fn category(term: &str) -> Category {
    Category {
        term: term.into(),
        ..Category::default()
    }
}

/// XML 1.0 cannot carry C0 control characters other than tab and line breaks (nor U+FFFE,
/// U+FFFF), even escaped; the serializer escapes markup but passes them through, so they are
/// dropped here rather than breaking the whole feed.
fn xml_text(value: &str) -> String {
    value
        .chars()
        .filter(|c| {
            matches!(c, '\t' | '\n' | '\r') || !(*c < ' ' || *c == '\u{FFFE}' || *c == '\u{FFFF}')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_dropped_but_line_breaks_kept() {
        assert_eq!(xml_text("a\u{1}b\nc\td\u{FFFF}"), "ab\nc\td");
    }
}
