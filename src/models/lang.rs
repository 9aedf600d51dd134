//! Languages and per-language text: which wording to serve when several languages exist.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A language the service stores text in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Uk,
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Uk, Lang::En, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Uk => "uk",
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The order in which languages are tried when `self` is asked for: the request first, then
    /// English (the OGP working language), then Ukrainian (the city's), then Spanish (the seed).
    pub fn fallback_chain(self) -> [Lang; 3] {
        match self {
            Lang::En => [Lang::En, Lang::Uk, Lang::Es],
            Lang::Uk => [Lang::Uk, Lang::En, Lang::Es],
            Lang::Es => [Lang::Es, Lang::En, Lang::Uk],
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "uk" => Ok(Lang::Uk),
            "en" => Ok(Lang::En),
            "es" => Ok(Lang::Es),
            other => Err(format!("unsupported language {other:?}: use uk, en or es")),
        }
    }
}

/// One text served in one language, saying which (so a fallback is never silent).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"value": "Providing businesses and residents with high-quality municipal services…", "lang": "en", "fallback": false, "source": "ogp-eoc-c1", "wording": "source"}))]
pub struct LocalizedText {
    pub value: String,
    /// The language `value` is written in.
    pub lang: Lang,
    /// True when the requested language had no text and another language was served instead.
    pub fallback: bool,
    /// Id of the source this wording comes from (see `/api/v1/sources`); null for the project's
    /// own wording.
    pub source: Option<String>,
    /// Whose words these are: the source's, the project's summary of the source, or the
    /// project's own.
    pub wording: Wording,
}

/// Whose words a text is. A text credited to a source is that source's own words unless it is
/// marked as the project's summary of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Wording {
    /// The source's own words (quoted, possibly cut with `…`).
    #[default]
    Source,
    /// A summary of what the source says, in the words of whoever entered it (the project's
    /// fixtures, or the writer of a progress update through the API); the source is named.
    Summary,
    /// The project's own wording, credited to no source (e.g. a sample registry's description).
    Project,
}

impl Wording {
    pub fn as_str(self) -> &'static str {
        match self {
            Wording::Source => "source",
            Wording::Summary => "summary",
            Wording::Project => "project",
        }
    }
}

impl FromStr for Wording {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "source" => Ok(Wording::Source),
            "summary" => Ok(Wording::Summary),
            "project" => Ok(Wording::Project),
            other => Err(format!(
                "unknown wording {other:?} (source, summary, project)"
            )),
        }
    }
}

/// One text as stored: its wording, the source it is credited to, and whose words it is.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredText {
    pub value: String,
    pub source: Option<String>,
    pub wording: Wording,
}

/// All the texts of one record: field name → language → stored text.
#[derive(Debug, Clone, Default)]
pub struct TextBundle {
    fields: BTreeMap<String, BTreeMap<Lang, StoredText>>,
}

impl TextBundle {
    pub fn insert(&mut self, field: &str, lang: Lang, text: StoredText) {
        self.fields
            .entry(field.to_owned())
            .or_default()
            .insert(lang, text);
    }

    /// The field in the requested language, or the first fallback that has it; `None` when no
    /// language has it (unknown).
    pub fn pick(&self, field: &str, requested: Lang) -> Option<LocalizedText> {
        let by_lang = self.fields.get(field)?;
        requested.fallback_chain().into_iter().find_map(|lang| {
            by_lang.get(&lang).map(|text| LocalizedText {
                value: text.value.clone(),
                lang,
                fallback: lang != requested,
                source: text.source.clone(),
                wording: text.wording,
            })
        })
    }

    /// The field in every language that has it, in `Lang` order (for documents that carry all
    /// languages at once, such as the DCAT catalog).
    pub fn all(&self, field: &str) -> impl Iterator<Item = (Lang, &str)> + '_ {
        self.fields.get(field).into_iter().flat_map(|by_lang| {
            by_lang
                .iter()
                .map(|(lang, text)| (*lang, text.value.as_str()))
        })
    }

    pub fn languages(&self, field: &str) -> impl Iterator<Item = Lang> + '_ {
        self.fields
            .get(field)
            .into_iter()
            .flat_map(|by_lang| by_lang.keys().copied())
    }
}

/// Picks texts in the requested language and remembers every language actually served, for
/// `Content-Language`.
pub struct LangContext {
    pub requested: Lang,
    served: RefCell<BTreeSet<Lang>>,
}

impl LangContext {
    pub fn new(requested: Lang) -> Self {
        Self {
            requested,
            served: RefCell::new(BTreeSet::new()),
        }
    }

    pub fn pick(&self, texts: &TextBundle, field: &str) -> Option<LocalizedText> {
        let picked = texts.pick(field, self.requested);
        if let Some(text) = &picked {
            self.served.borrow_mut().insert(text.lang);
        }
        picked
    }

    /// Value of `Content-Language`: the languages of the texts in the body; `None` when the body
    /// has no localized text.
    pub fn content_language(&self) -> Option<String> {
        let served = self.served.borrow();
        (!served.is_empty()).then(|| {
            served
                .iter()
                .map(|l| l.code())
                .collect::<Vec<_>>()
                .join(", ")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_prefers_the_request_then_the_chain() {
        let mut bundle = TextBundle::default();
        let text = |value: &str, source: Option<&str>| StoredText {
            value: value.into(),
            source: source.map(Into::into),
            wording: Wording::Source,
        };
        bundle.insert("title", Lang::Es, text("título", None));
        bundle.insert("title", Lang::En, text("title", Some("s")));
        let es = bundle.pick("title", Lang::Es).unwrap();
        assert_eq!(
            (es.value.as_str(), es.lang, es.fallback),
            ("título", Lang::Es, false)
        );
        let uk = bundle.pick("title", Lang::Uk).unwrap();
        assert_eq!(
            (uk.value.as_str(), uk.lang, uk.fallback),
            ("title", Lang::En, true)
        );
        assert_eq!(uk.source.as_deref(), Some("s"));
        assert!(bundle.pick("problem", Lang::En).is_none());
    }

    #[test]
    fn parses_codes_case_insensitively() {
        assert_eq!("UK".parse::<Lang>().unwrap(), Lang::Uk);
        assert!("de".parse::<Lang>().is_err());
    }
}
