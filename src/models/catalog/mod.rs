//! The DCAT-AP 3 catalog of what this service publishes: one `dcat:Dataset` per registry and one
//! for the action plan, their distributions (one per format), their newest releases as versions
//! (`dcat:hasVersion`) with pinned files, checksums and sizes, and the API as a
//! `dcat:DataService`.
//!
//! The graph is built with `oxrdf` and written by `oxttl` (Turtle) and `oxjsonld` (JSON-LD), so
//! both documents carry the same triples. Absolute IRIs start with the caller's `base` (scheme and
//! host). Unknown values are left out, never guessed: no licence, frequency, contact or date
//! appears unless the data (or the operator's configuration) has it. Where the data names no
//! publisher, the publisher is the operator of this instance, who makes the data available.
//! Every outside resource referenced is typed with the class DCAT-AP's range shapes expect
//! (`vocabulary`), so the catalog passes the official SHACL shapes without a reasoner.

mod datasets;
mod vocabulary;

use std::collections::{BTreeMap, BTreeSet};

use oxrdf::vocab::{rdf, xsd};
use oxrdf::{
    BlankNode, Graph, IriParseError, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Term,
    TermRef, Triple,
};

use crate::db::DbConn;
use crate::models::institutions::{self, Institution};
use crate::models::lang::TextBundle;
use crate::models::partial_date::{DatePrecision, PartialDate};
use crate::models::plans::{self, Plan, PlanExpand, PlanFilter};
use crate::models::provenance::load_sources;
use crate::models::registries::{self, Registry};
use crate::models::releases::{self, Release};
use crate::models::sources::Source;
use crate::models::{PageRequest, entity};
pub use vocabulary::{
    Concept, DistributionFormat, PREFIXES, SYNTHETIC_DATA, Standard, frequency_iri, term,
};
use vocabulary::{DATA_THEMES, PROBLEM_DETAILS, THEME_GOVERNMENT, language_iri};

/// How many releases of each dataset the catalog describes as versions, newest first. A dataset
/// can have thousands (every import, every milestone edit); the rest are one link away: the
/// dataset's `foaf:page` is its release list, and each version names its `dcat:previousVersion`.
pub const RELEASES_DESCRIBED: i64 = 5;

/// The collections of the plan dataset.
pub const PLAN_COLLECTIONS: &[&str] = &[
    "plans",
    "commitments",
    "milestones",
    "institutions",
    "sources",
];

/// Keywords of the plan dataset and the API: the project's own words, as no source gives any.
const PLAN_KEYWORDS: &[&str] = &["open government", "OGP Local", "action plan"];
const SERVICE_KEYWORDS: &[&str] = &["open government", "OGP Local", "open data", "API"];

/// Who runs this instance (`--operator-name`, `--operator-url`, `--operator-email`): the
/// catalog's publisher, and the publisher and contact of every dataset whose data names none —
/// what is true of any dataset here is that the operator makes it available.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operator {
    /// Without it the catalog says "Operator of the opengov-api service at <base URL>".
    pub name: Option<String>,
    /// The operator's home page (absolute http or https URL).
    pub url: Option<String>,
    /// Where to write about the data; with the URL, the contact point. Without either, no
    /// contact point is stated.
    pub email: Option<String>,
}

impl Operator {
    /// Checks the configured values; empty ones are unset. The error names the option.
    pub fn new(
        name: Option<String>,
        url: Option<String>,
        email: Option<String>,
    ) -> Result<Operator, String> {
        let given =
            |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let (name, url, email) = (given(name), given(url), given(email));
        if let Some(url) = &url {
            let parsed = url::Url::parse(url)
                .map_err(|e| format!("--operator-url {url:?} is not an absolute URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(format!(
                    "--operator-url {url:?} is not an http or https URL with a host"
                ));
            }
        }
        if let Some(email) = &email {
            let valid = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.contains('@')
            }) && !email
                .contains(|c: char| c.is_whitespace() || "<>\"(),;:[]".contains(c))
                && NamedNode::new(format!("mailto:{email}")).is_ok();
            if !valid {
                return Err(format!(
                    "--operator-email {email:?} is not an e-mail address (local@domain)"
                ));
            }
        }
        Ok(Operator { name, url, email })
    }
}

/// Everything the catalog describes, read in one go.
pub struct CatalogData {
    pub plans: Vec<Plan>,
    pub plan_releases: ReleaseHistory,
    pub registries: Vec<RegistryEntry>,
    /// Publishers by institution id.
    pub publishers: BTreeMap<String, Institution>,
}

pub struct RegistryEntry {
    pub registry: Registry,
    pub releases: ReleaseHistory,
    /// Standards the registry's structure follows.
    pub standards: Vec<Source>,
}

/// A dataset's newest releases (at most `RELEASES_DESCRIBED`, newest first) and how many it has.
pub struct ReleaseHistory {
    pub newest: Vec<Release>,
    pub total: i64,
}

impl ReleaseHistory {
    fn read(conn: &mut DbConn, dataset: &str) -> diesel::QueryResult<ReleaseHistory> {
        Ok(ReleaseHistory {
            newest: releases::list(conn, Some(dataset), None, RELEASES_DESCRIBED)?,
            total: releases::count(conn, dataset)?,
        })
    }

    pub fn latest(&self) -> Option<&Release> {
        self.newest.first()
    }
}

/// Reads the plans, every registry, their newest releases, standards and publishers.
pub fn load(conn: &mut DbConn) -> diesel::QueryResult<CatalogData> {
    let plans = plans::list(
        conn,
        &PlanFilter::default(),
        &PageRequest {
            after: None,
            limit: 1000,
        },
        PlanExpand::default(),
    )?
    .items;
    let plan_releases = ReleaseHistory::read(conn, releases::PLAN)?;
    let all = registries::all(conn)?;
    let slugs: Vec<String> = all.iter().map(|r| r.slug().to_owned()).collect();
    let mut standards = load_sources(conn, entity::REGISTRY_STANDARD, &slugs)?;
    let mut publishers = BTreeMap::new();
    let mut entries = Vec::with_capacity(all.len());
    for registry in all {
        if let Some(id) = &registry.row.publisher_id
            && !publishers.contains_key(id)
            && let Some(institution) = institutions::find(conn, id, false)?
        {
            publishers.insert(id.clone(), institution);
        }
        let releases = ReleaseHistory::read(conn, &releases::registry_dataset(registry.slug()))?;
        entries.push(RegistryEntry {
            standards: standards.remove(registry.slug()).unwrap_or_default(),
            releases,
            registry,
        });
    }
    Ok(CatalogData {
        plans,
        plan_releases,
        registries: entries,
        publishers,
    })
}

/// The public base is not a usable IRI (a malformed `Host`).
#[derive(Debug, thiserror::Error)]
#[error("the public base URL {base:?} is not an absolute IRI: {source}")]
pub struct BadBase {
    pub base: String,
    #[source]
    pub source: IriParseError,
}

type Node = NamedOrBlankNode;

/// An IRI built from the checked base and checked slugs.
fn named(iri: String) -> Node {
    Node::from(NamedNode::new_unchecked(iri))
}

/// Collects the triples; IRIs from stored data that do not parse are left out.
struct Builder {
    graph: Graph,
}

impl Builder {
    fn add(&mut self, subject: &Node, predicate: NamedNodeRef<'_>, object: impl Into<Term>) {
        self.graph.insert(&Triple::new(
            subject.clone(),
            predicate.into_owned(),
            object.into(),
        ));
    }

    /// Adds `subject predicate <iri>` when `iri` is a valid IRI.
    fn add_iri(&mut self, subject: &Node, predicate: NamedNodeRef<'_>, iri: &str) {
        if let Ok(node) = NamedNode::new(iri) {
            self.add(subject, predicate, node);
        }
    }

    /// Adds `subject predicate <iri>` and `<iri> a class` when `iri` is a valid IRI: DCAT-AP's
    /// range shapes check the class of what a property points to.
    fn add_typed(
        &mut self,
        subject: &Node,
        predicate: NamedNodeRef<'_>,
        iri: &str,
        class: NamedNodeRef<'_>,
    ) -> Option<Node> {
        let node = Node::from(NamedNode::new(iri).ok()?);
        self.add(subject, predicate, node.clone());
        self.add(&node, rdf::TYPE, class.into_owned());
        Some(node)
    }

    /// Adds `subject predicate <concept>`, the concept being a `skos:Concept` with its label.
    fn add_concept(&mut self, subject: &Node, predicate: NamedNodeRef<'_>, concept: Concept) {
        if let Some(node) = self.add_typed(subject, predicate, concept.iri, term::CONCEPT) {
            self.add_english(&node, term::PREF_LABEL, concept.label);
        }
    }

    /// Adds `subject dct:conformsTo <standard>`, a `dct:Standard` with its title.
    fn add_standard(&mut self, subject: &Node, standard: Standard) {
        if let Some(node) = self.add_typed(subject, term::CONFORMS_TO, standard.iri, term::STANDARD)
        {
            self.add_english(&node, term::TITLE, standard.title);
        }
    }

    /// Adds `subject dct:language <EU language>` for a language this project knows.
    fn add_language(&mut self, subject: &Node, code: &str) {
        if let Some(iri) = language_iri(code) {
            self.add_typed(subject, term::LANGUAGE, &iri, term::LINGUISTIC_SYSTEM);
        }
    }

    /// One literal per language the text exists in, tagged with that language.
    fn add_texts(
        &mut self,
        subject: &Node,
        predicate: NamedNodeRef<'_>,
        texts: &TextBundle,
        field: &str,
    ) {
        for (lang, value) in texts.all(field) {
            if let Ok(literal) = Literal::new_language_tagged_literal(value, lang.code()) {
                self.add(subject, predicate, literal);
            }
        }
    }

    fn add_english(&mut self, subject: &Node, predicate: NamedNodeRef<'_>, text: &str) {
        self.add(
            subject,
            predicate,
            Literal::new_language_tagged_literal_unchecked(text, "en"),
        );
    }

    fn objects(&self, subject: &Node, predicate: NamedNodeRef<'_>) -> Vec<Term> {
        self.graph
            .objects_for_subject_predicate(subject, predicate)
            .map(TermRef::into_owned)
            .collect()
    }
}

/// A stored partial date as the XSD type of its precision (date, gYearMonth, gYear).
fn partial_date_literal(raw: &str) -> Option<Literal> {
    let date: PartialDate = raw.parse().ok()?;
    let datatype = match date.precision() {
        DatePrecision::Day => xsd::DATE,
        DatePrecision::Month => xsd::G_YEAR_MONTH,
        DatePrecision::Year => xsd::G_YEAR,
    };
    Some(Literal::new_typed_literal(date.to_string(), datatype))
}

/// A release's publication time (RFC 3339) as `xsd:dateTime`.
fn release_literal(release: &Release) -> Literal {
    Literal::new_typed_literal(release.created_at.clone(), xsd::DATE_TIME)
}

/// One distribution of a dataset.
struct Distribution<'a> {
    /// Its IRI: the dataset's IRI and a fragment.
    iri: String,
    /// Where it is read (access URL, and download URL for a complete file).
    url: String,
    format: DistributionFormat,
    title: String,
    description: String,
    license: Option<&'a Node>,
    /// For a file pinned to a release: that release, whose publication time is the file's
    /// `dct:issued`.
    pinned: Option<&'a Release>,
    /// The release whose canonical export this file is: its SHA-256 and size describe the bytes.
    canonical_of: Option<&'a Release>,
}

/// Properties a version shares with its dataset: who publishes it, what it is about, where, in
/// which languages, under which licence. Dates, frequency and distributions are its own; a
/// sample registry's note stays with the dataset (its versions keep the synthetic-data type).
const SHARED_WITH_VERSIONS: &[NamedNodeRef<'static>] = &[
    term::PUBLISHER,
    term::CONTACT_POINT,
    term::THEME,
    term::KEYWORD,
    term::SPATIAL,
    term::LANGUAGE,
    term::TYPE,
    term::CONFORMS_TO,
    term::LICENSE,
    term::RELATION,
];

/// A release of a dataset, described as a version of it.
struct Version<'a> {
    /// The release's own URL in the API (`…/releases/<n>`), its IRI.
    iri: String,
    /// The dataset's `dct:identifier`, to which `/releases/<n>` is added.
    identifier: &'a str,
    release: &'a Release,
    /// Its files, pinned to the release.
    files: Vec<Distribution<'a>>,
}

/// The graph being built, with the nodes every part refers to.
struct CatalogGraph {
    b: Builder,
    /// `<base>/api/v1`.
    api: String,
    /// The API as a `dcat:DataService`.
    service: Node,
    /// The operator of this instance (`foaf:Agent`).
    operator: Node,
    /// The operator's contact point, when one is configured.
    operator_contact: Option<Node>,
}

impl CatalogGraph {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// The operator as an agent and, with an e-mail address or URL, a contact point.
    fn describe_operator(&mut self, operator: &Operator, base: &str) {
        let agent = self.operator.clone();
        self.b.add(&agent, rdf::TYPE, term::AGENT.into_owned());
        match &operator.name {
            // Configured names are in no declared language.
            Some(name) => self
                .b
                .add(&agent, term::NAME, Literal::new_simple_literal(name)),
            None => self.b.add_english(
                &agent,
                term::NAME,
                &format!("Operator of the opengov-api service at {base}"),
            ),
        }
        if let Some(url) = &operator.url {
            self.b
                .add_typed(&agent, term::HOMEPAGE, url, term::DOCUMENT);
        }
        if operator.email.is_none() && operator.url.is_none() {
            return;
        }
        let contact = named(self.url("/catalog#contact"));
        self.b
            .add(&contact, rdf::TYPE, term::VCARD_KIND.into_owned());
        let name = self.b.objects(&agent, term::NAME).remove(0);
        self.b.add(&contact, term::VCARD_FN, name);
        if let Some(email) = &operator.email {
            self.b
                .add_iri(&contact, term::VCARD_HAS_EMAIL, &format!("mailto:{email}"));
        }
        if let Some(url) = &operator.url {
            self.b.add_iri(&contact, term::VCARD_HAS_URL, url);
        }
        self.operator_contact = Some(contact);
    }

    /// What the catalog and the API say of every dataset: listed, served, typed, themed.
    fn list_dataset(&mut self, catalog: &Node, dataset: &Node) {
        self.b.add(catalog, term::HAS_DATASET, dataset.clone());
        self.b
            .add(&self.service.clone(), term::SERVES_DATASET, dataset.clone());
        self.b.add(dataset, rdf::TYPE, term::DATASET.into_owned());
        // The project's classification (docs/API.md).
        self.b.add_concept(dataset, term::THEME, THEME_GOVERNMENT);
        if let Some(node) = self.b.objects(dataset, term::THEME).first()
            && let Term::NamedNode(theme) = node
        {
            let theme = Node::from(theme.clone());
            self.b.add_iri(&theme, term::IN_SCHEME, DATA_THEMES.iri);
        }
    }

    /// The operator as publisher and contact, for a dataset whose data names neither.
    fn operator_as(&mut self, dataset: &Node, publisher: bool, contact: bool) {
        if publisher {
            self.b.add(dataset, term::PUBLISHER, self.operator.clone());
        }
        if contact && let Some(node) = self.operator_contact.clone() {
            self.b.add(dataset, term::CONTACT_POINT, node);
        }
    }

    fn distribution(&mut self, dataset: &Node, d: Distribution<'_>) -> Node {
        let distribution = named(d.iri);
        let b = &mut self.b;
        b.add(dataset, term::HAS_DISTRIBUTION, distribution.clone());
        b.add(&distribution, rdf::TYPE, term::DISTRIBUTION.into_owned());
        b.add_english(&distribution, term::TITLE, &d.title);
        b.add_english(&distribution, term::DESCRIPTION, &d.description);
        let url = NamedNode::new_unchecked(d.url);
        b.add(&distribution, term::ACCESS_URL, url.clone());
        if d.format.is_complete_file() {
            b.add(&distribution, term::DOWNLOAD_URL, url);
        }
        b.add(&distribution, term::ACCESS_SERVICE, self.service.clone());
        if let Some(media_type) = d.format.media_type_iri() {
            b.add_typed(
                &distribution,
                term::MEDIA_TYPE,
                media_type,
                term::MEDIA_TYPE_CLASS,
            );
        }
        if let Some(file_type) = d.format.file_type_iri() {
            b.add_typed(
                &distribution,
                term::FORMAT,
                file_type,
                term::MEDIA_TYPE_OR_EXTENT,
            );
        }
        if let Some(standard) = d.format.specification() {
            b.add_standard(&distribution, standard);
        }
        if let Some(license) = d.license {
            b.add(&distribution, term::LICENSE, license.clone());
        }
        if let Some(release) = d.pinned {
            b.add(&distribution, term::ISSUED, release_literal(release));
        }
        if let Some(release) = d.canonical_of {
            add_checksum(b, &distribution, release);
        }
        distribution
    }

    /// The release history of a dataset: its list as `foaf:page`, and its newest releases as
    /// versions.
    fn versions(&mut self, dataset: &Node, list_path: &str, versions: Vec<Version<'_>>) {
        let list = self.url(list_path);
        if let Some(page) = self.b.add_typed(dataset, term::PAGE, &list, term::DOCUMENT) {
            self.b.add_english(
                &page,
                term::TITLE,
                "Every release of this dataset, newest first (JSON)",
            );
        }
        for version in versions {
            self.version(dataset, version);
        }
    }

    fn version(&mut self, dataset: &Node, version: Version<'_>) {
        let node = named(version.iri.clone());
        let release = version.release;
        let n = release.number;
        self.b.add(dataset, term::HAS_VERSION, node.clone());
        self.b
            .add(&self.service.clone(), term::SERVES_DATASET, node.clone());
        self.b.add(&node, rdf::TYPE, term::DATASET.into_owned());
        for title in self.b.objects(dataset, term::TITLE) {
            if let Term::Literal(title) = title
                && let Some(lang) = title.language()
                && let Ok(literal) = Literal::new_language_tagged_literal(
                    release_title(title.value(), lang, n),
                    lang,
                )
            {
                self.b.add(&node, term::TITLE, literal);
            }
        }
        self.b.add_english(
            &node,
            term::DESCRIPTION,
            &format!(
                "Release {n} of this dataset, published by this service at {}: {} records \
                 ({} added, {} changed, {} removed). Its files never change.",
                release.created_at,
                release.row_count,
                release.added,
                release.changed,
                release.removed
            ),
        );
        self.b.add(
            &node,
            term::IDENTIFIER,
            Literal::new_simple_literal(format!("{}/releases/{n}", version.identifier)),
        );
        self.b.add(
            &node,
            term::VERSION,
            Literal::new_simple_literal(n.to_string()),
        );
        self.b.add(&node, term::ISSUED, release_literal(release));
        if n > 1 {
            let previous = version
                .iri
                .rsplit_once('/')
                .map(|(list, _)| format!("{list}/{}", n - 1));
            if let Some(previous) = previous {
                self.b.add_iri(&node, term::PREVIOUS_VERSION, &previous);
            }
        }
        for predicate in SHARED_WITH_VERSIONS {
            for object in self.b.objects(dataset, *predicate) {
                self.b.add(&node, *predicate, object);
            }
        }
        for file in version.files {
            self.distribution(&node, file);
        }
    }
}

/// A version's title in the language of the dataset title it extends.
fn release_title(title: &str, lang: &str, n: i64) -> String {
    let word = match lang {
        "uk" => "випуск",
        "es" => "versión",
        _ => "release",
    };
    format!("{title} ({word} {n})")
}

/// `spdx:checksum` (SHA-256) and `dcat:byteSize` of a release's canonical export.
fn add_checksum(b: &mut Builder, distribution: &Node, release: &Release) {
    let label = format!(
        "sha256-{}-{}",
        release.dataset.replace('/', "-"),
        release.number
    );
    if let Ok(checksum) = BlankNode::new(label) {
        let checksum = Node::from(checksum);
        b.add(distribution, term::CHECKSUM, checksum.clone());
        b.add(&checksum, rdf::TYPE, term::CHECKSUM_CLASS.into_owned());
        b.add(&checksum, term::ALGORITHM, term::SHA256.into_owned());
        b.add(
            &checksum,
            term::CHECKSUM_VALUE,
            Literal::new_typed_literal(release.sha256.clone(), xsd::HEX_BINARY),
        );
        let algorithm = Node::from(term::SHA256.into_owned());
        b.add(&algorithm, rdf::TYPE, term::CHECKSUM_ALGORITHM.into_owned());
    }
    if let Some(size) = release.byte_size {
        b.add(
            distribution,
            term::BYTE_SIZE,
            Literal::new_typed_literal(size.to_string(), xsd::NON_NEGATIVE_INTEGER),
        );
    }
}

/// Builds the catalog graph. `base` is the public scheme and host, e.g. `https://data.example`.
pub fn build(data: &CatalogData, base: &str, operator: &Operator) -> Result<Graph, BadBase> {
    let base = base.trim_end_matches('/');
    let api = format!("{base}/api/v1");
    // Every other IRI extends this one with checked slugs, so checking it once is enough.
    let catalog_iri = NamedNode::new(format!("{api}/catalog")).map_err(|source| BadBase {
        base: base.to_owned(),
        source,
    })?;
    let mut g = CatalogGraph {
        b: Builder {
            graph: Graph::new(),
        },
        service: named(format!("{api}/catalog#service")),
        operator: named(format!("{api}/catalog#operator")),
        operator_contact: None,
        api,
    };
    g.describe_operator(operator, base);

    let catalog = Node::from(catalog_iri);
    g.b.add(&catalog, rdf::TYPE, term::CATALOG.into_owned());
    g.b.add_english(&catalog, term::TITLE, "opengov-api catalog");
    g.b.add_english(
        &catalog,
        term::DESCRIPTION,
        "Datasets published by this opengov-api service: the data of the OGP Local action plan \
         and the city's geoportal registries, each with its distributions and its newest \
         releases.",
    );
    g.b.add(&catalog, term::PUBLISHER, g.operator.clone());
    if let Some(home) = g.b.add_typed(
        &catalog,
        term::HOMEPAGE,
        &format!("{base}/"),
        term::DOCUMENT,
    ) {
        g.b.add_english(&home, term::TITLE, "opengov-api: the web pages");
    }
    if let Some(scheme) = g.b.add_typed(
        &catalog,
        term::THEME_TAXONOMY,
        DATA_THEMES.iri,
        term::CONCEPT_SCHEME,
    ) {
        g.b.add_english(&scheme, term::TITLE, DATA_THEMES.label);
    }

    // The API itself, which serves every dataset.
    let service = g.service.clone();
    g.b.add(&catalog, term::SERVICE, service.clone());
    g.b.add(&service, rdf::TYPE, term::DATA_SERVICE.into_owned());
    g.b.add_english(&service, term::TITLE, "opengov-api");
    g.b.add_english(
        &service,
        term::DESCRIPTION,
        "The HTTP API that serves every dataset of this catalog: JSON pages, complete CSV, \
         GeoJSON and NDJSON files, each release pinned with ?release=.",
    );
    g.b.add(
        &service,
        term::ENDPOINT_URL,
        NamedNode::new_unchecked(g.url("")),
    );
    g.b.add(
        &service,
        term::ENDPOINT_DESCRIPTION,
        NamedNode::new_unchecked(g.url("/openapi.json")),
    );
    g.b.add_concept(&service, term::THEME, THEME_GOVERNMENT);
    for word in SERVICE_KEYWORDS {
        g.b.add_english(&service, term::KEYWORD, word);
    }
    g.b.add_standard(&service, PROBLEM_DETAILS);
    g.operator_as(&service, true, true);

    datasets::plan(&mut g, &catalog, data);
    for entry in &data.registries {
        datasets::registry(&mut g, &catalog, entry, &data.publishers);
    }

    // The catalog's languages are those of its texts; its coverage that of its datasets.
    let mut languages = BTreeSet::new();
    let mut locations = Vec::new();
    for triple in g.b.graph.iter() {
        if let TermRef::Literal(literal) = triple.object
            && let Some(lang) = literal.language()
        {
            languages.insert(lang.to_owned());
        }
        if triple.predicate == term::SPATIAL {
            locations.push(triple.object.into_owned());
        }
    }
    for lang in languages {
        g.b.add_language(&catalog, &lang);
    }
    for location in locations {
        g.b.add(&catalog, term::SPATIAL, location);
    }
    Ok(g.b.graph)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(value: &str) -> Option<String> {
        Some(value.to_owned())
    }

    #[test]
    fn operator_values_are_checked_and_empty_ones_unset() {
        let operator = Operator::new(
            some(" Open data desk "),
            some("https://opendata.example.org/"),
            some("data@example.org"),
        )
        .unwrap();
        assert_eq!(operator.name.as_deref(), Some("Open data desk"));
        assert_eq!(
            Operator::new(some(""), some("  "), None).unwrap(),
            Operator::default()
        );
        for url in [
            "opendata.example.org",
            "ftp://example.org/",
            "mailto:x@example.org",
        ] {
            let refused = Operator::new(None, some(url), None).unwrap_err();
            assert!(refused.starts_with("--operator-url"), "{refused}");
        }
        for email in [
            "data",
            "@example.org",
            "data@localhost",
            "a b@example.org",
            "<a@b.org>",
        ] {
            let refused = Operator::new(None, None, some(email)).unwrap_err();
            assert!(refused.starts_with("--operator-email"), "{refused}");
        }
    }

    #[test]
    fn version_titles_extend_the_dataset_title_in_its_language() {
        assert_eq!(release_title("Реєстр", "uk", 3), "Реєстр (випуск 3)");
        assert_eq!(release_title("Register", "en", 3), "Register (release 3)");
        assert_eq!(release_title("Registro", "es", 3), "Registro (versión 3)");
    }
}
