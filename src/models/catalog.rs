//! The DCAT-AP 3 catalog of what this service publishes: one `dcat:Dataset` per registry and one
//! for the action plan, their distributions (one per format), and the API as a `dcat:DataService`.
//!
//! The graph is built with `oxrdf` and written by `oxttl` (Turtle) and `oxjsonld` (JSON-LD), so
//! both documents carry the same triples. Absolute IRIs start with the caller's `base` (scheme and
//! host). Unknown values are left out, never guessed: no publisher, licence, frequency, contact or
//! date appears unless the data has it.

use std::collections::BTreeMap;

use oxjsonld::JsonLdSerializer;
use oxrdf::vocab::{rdf, rdfs, xsd};
use oxrdf::{
    BlankNode, Graph, IriParseError, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Term,
    Triple,
};
use oxttl::TurtleSerializer;

use crate::db::DbConn;
use crate::models::institutions::{self, Institution};
use crate::models::lang::TextBundle;
use crate::models::partial_date::{DatePrecision, PartialDate};
use crate::models::plans::{self, Plan, PlanExpand, PlanFilter};
use crate::models::provenance::load_sources;
use crate::models::registries::geometry::GeometryKind;
use crate::models::registries::{self, Registry};
use crate::models::releases::{self, Release};
use crate::models::sources::Source;
use crate::models::vocab::{UpdateFrequency, parse_stored};
use crate::models::{PageRequest, entity};

/// Prefixes written into both documents (Turtle `@prefix`, JSON-LD `@context`).
pub const PREFIXES: &[(&str, &str)] = &[
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
];

/// The vocabulary terms the catalog uses.
pub mod term {
    use oxrdf::NamedNodeRef as N;

    pub const CATALOG: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#Catalog");
    pub const DATASET: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#Dataset");
    pub const DISTRIBUTION: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#Distribution");
    pub const DATA_SERVICE: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#DataService");
    pub const HAS_DATASET: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#dataset");
    pub const SERVICE: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#service");
    pub const HAS_DISTRIBUTION: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#distribution");
    pub const ACCESS_URL: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#accessURL");
    pub const DOWNLOAD_URL: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#downloadURL");
    pub const ACCESS_SERVICE: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#accessService");
    pub const MEDIA_TYPE: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#mediaType");
    pub const ENDPOINT_URL: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#endpointURL");
    pub const ENDPOINT_DESCRIPTION: N<'_> =
        N::new_unchecked("http://www.w3.org/ns/dcat#endpointDescription");
    pub const SERVES_DATASET: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#servesDataset");
    pub const KEYWORD: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#keyword");
    pub const CONTACT_POINT: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#contactPoint");

    pub const TITLE: N<'_> = N::new_unchecked("http://purl.org/dc/terms/title");
    pub const DESCRIPTION: N<'_> = N::new_unchecked("http://purl.org/dc/terms/description");
    pub const IDENTIFIER: N<'_> = N::new_unchecked("http://purl.org/dc/terms/identifier");
    pub const PUBLISHER: N<'_> = N::new_unchecked("http://purl.org/dc/terms/publisher");
    pub const LICENSE: N<'_> = N::new_unchecked("http://purl.org/dc/terms/license");
    pub const LICENSE_DOCUMENT: N<'_> =
        N::new_unchecked("http://purl.org/dc/terms/LicenseDocument");
    pub const ACCRUAL_PERIODICITY: N<'_> =
        N::new_unchecked("http://purl.org/dc/terms/accrualPeriodicity");
    pub const ISSUED: N<'_> = N::new_unchecked("http://purl.org/dc/terms/issued");
    pub const MODIFIED: N<'_> = N::new_unchecked("http://purl.org/dc/terms/modified");
    pub const SPATIAL: N<'_> = N::new_unchecked("http://purl.org/dc/terms/spatial");
    pub const LOCATION: N<'_> = N::new_unchecked("http://purl.org/dc/terms/Location");
    pub const CONFORMS_TO: N<'_> = N::new_unchecked("http://purl.org/dc/terms/conformsTo");
    pub const STANDARD: N<'_> = N::new_unchecked("http://purl.org/dc/terms/Standard");
    pub const FORMAT: N<'_> = N::new_unchecked("http://purl.org/dc/terms/format");
    pub const LANGUAGE: N<'_> = N::new_unchecked("http://purl.org/dc/terms/language");
    pub const TYPE: N<'_> = N::new_unchecked("http://purl.org/dc/terms/type");
    pub const RELATION: N<'_> = N::new_unchecked("http://purl.org/dc/terms/relation");

    pub const AGENT: N<'_> = N::new_unchecked("http://xmlns.com/foaf/0.1/Agent");
    pub const NAME: N<'_> = N::new_unchecked("http://xmlns.com/foaf/0.1/name");

    pub const VCARD_KIND: N<'_> = N::new_unchecked("http://www.w3.org/2006/vcard/ns#Kind");
    pub const VCARD_FN: N<'_> = N::new_unchecked("http://www.w3.org/2006/vcard/ns#fn");
    pub const VCARD_HAS_EMAIL: N<'_> = N::new_unchecked("http://www.w3.org/2006/vcard/ns#hasEmail");

    /// EU dataset-type authority: sample registries are generated, i.e. synthetic, data.
    pub const SYNTHETIC_DATA: N<'_> = N::new_unchecked(
        "http://publications.europa.eu/resource/authority/dataset-type/SYNTHETIC_DATA",
    );
}

/// The EU frequency authority IRI of an 835 update frequency.
pub fn frequency_iri(frequency: UpdateFrequency) -> String {
    format!(
        "http://publications.europa.eu/resource/authority/frequency/{}",
        frequency.eu_code()
    )
}

/// The EU language authority IRI of a language code, for the languages this project knows.
fn language_iri(code: &str) -> Option<String> {
    let eu = match code {
        "uk" => "UKR",
        "en" => "ENG",
        "es" => "SPA",
        _ => return None,
    };
    Some(format!(
        "http://publications.europa.eu/resource/authority/language/{eu}"
    ))
}

/// A distribution format: how the API names it and how DCAT-AP does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistributionFormat {
    Json,
    Csv,
    GeoJson,
    NdJson,
}

impl DistributionFormat {
    /// Short name, used in distribution IRIs (`…#csv`).
    pub fn name(self) -> &'static str {
        match self {
            DistributionFormat::Json => "json",
            DistributionFormat::Csv => "csv",
            DistributionFormat::GeoJson => "geojson",
            DistributionFormat::NdJson => "ndjson",
        }
    }

    /// The IANA media-type IRI. NDJSON has none: `application/x-ndjson` is not registered.
    pub fn media_type_iri(self) -> Option<&'static str> {
        match self {
            DistributionFormat::Json => {
                Some("http://www.iana.org/assignments/media-types/application/json")
            }
            DistributionFormat::Csv => Some("http://www.iana.org/assignments/media-types/text/csv"),
            DistributionFormat::GeoJson => {
                Some("http://www.iana.org/assignments/media-types/application/geo+json")
            }
            DistributionFormat::NdJson => None,
        }
    }

    /// The EU file-type authority IRI. NDJSON has none in that table.
    pub fn file_type_iri(self) -> Option<&'static str> {
        match self {
            DistributionFormat::Json => {
                Some("http://publications.europa.eu/resource/authority/file-type/JSON")
            }
            DistributionFormat::Csv => {
                Some("http://publications.europa.eu/resource/authority/file-type/CSV")
            }
            DistributionFormat::GeoJson => {
                Some("http://publications.europa.eu/resource/authority/file-type/GEOJSON")
            }
            DistributionFormat::NdJson => None,
        }
    }

    /// The path suffix of the representation (`/items` + suffix, `/commitments` + suffix).
    fn suffix(self) -> &'static str {
        match self {
            DistributionFormat::Json => "",
            DistributionFormat::Csv => ".csv",
            DistributionFormat::GeoJson => ".geojson",
            DistributionFormat::NdJson => ".ndjson",
        }
    }

    /// JSON answers in pages (an access URL); the other formats are complete files without
    /// `limit` (a download URL).
    fn is_complete_file(self) -> bool {
        self != DistributionFormat::Json
    }

    fn title(self) -> &'static str {
        match self {
            DistributionFormat::Json => "JSON pages",
            DistributionFormat::Csv => "CSV (UTF-8, comma, CRLF, header row)",
            DistributionFormat::GeoJson => "GeoJSON FeatureCollection (WGS84)",
            DistributionFormat::NdJson => "NDJSON (application/x-ndjson), one item per line",
        }
    }
}

/// The collections of the plan dataset.
pub const PLAN_COLLECTIONS: &[&str] = &[
    "plans",
    "commitments",
    "milestones",
    "institutions",
    "sources",
];

/// Everything the catalog describes, read in one go.
pub struct CatalogData {
    pub plans: Vec<Plan>,
    pub plan_release: Option<Release>,
    pub registries: Vec<RegistryEntry>,
    /// Publishers by institution id.
    pub publishers: BTreeMap<String, Institution>,
}

pub struct RegistryEntry {
    pub registry: Registry,
    pub latest_release: Option<Release>,
    /// Standards the registry's structure follows.
    pub standards: Vec<Source>,
}

/// Reads the plans, every registry, their latest releases, standards and publishers.
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
    let plan_release = releases::latest(conn, releases::PLAN)?;
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
        let latest_release = releases::latest(conn, &releases::registry_dataset(registry.slug()))?;
        entries.push(RegistryEntry {
            standards: standards.remove(registry.slug()).unwrap_or_default(),
            latest_release,
            registry,
        });
    }
    Ok(CatalogData {
        plans,
        plan_release,
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

/// Absolute IRIs of the API's resources.
struct Urls {
    api: String,
}

impl Urls {
    fn api(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }
}

/// Collects the triples; IRIs from stored data that do not parse are left out.
struct Builder {
    graph: Graph,
}

impl Builder {
    fn add(
        &mut self,
        subject: &NamedOrBlankNode,
        predicate: NamedNodeRef<'_>,
        object: impl Into<Term>,
    ) {
        self.graph.insert(&Triple::new(
            subject.clone(),
            predicate.into_owned(),
            object.into(),
        ));
    }

    /// Adds `subject predicate <iri>` when `iri` is a valid IRI.
    fn add_iri(&mut self, subject: &NamedOrBlankNode, predicate: NamedNodeRef<'_>, iri: &str) {
        if let Ok(node) = NamedNode::new(iri) {
            self.add(subject, predicate, node);
        }
    }

    /// One literal per language the text exists in, tagged with that language.
    fn add_texts(
        &mut self,
        subject: &NamedOrBlankNode,
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

    fn add_english(&mut self, subject: &NamedOrBlankNode, predicate: NamedNodeRef<'_>, text: &str) {
        self.add(
            subject,
            predicate,
            Literal::new_language_tagged_literal_unchecked(text, "en"),
        );
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

/// Builds the catalog graph. `base` is the public scheme and host, e.g. `https://data.example`.
pub fn build(data: &CatalogData, base: &str) -> Result<Graph, BadBase> {
    let base = base.trim_end_matches('/');
    let api = format!("{base}/api/v1");
    // Every other IRI extends this one with checked slugs, so checking it once is enough.
    let catalog_iri = NamedNode::new(format!("{api}/catalog")).map_err(|source| BadBase {
        base: base.to_owned(),
        source,
    })?;
    let urls = Urls { api };
    let named = |iri: String| NamedOrBlankNode::from(NamedNode::new_unchecked(iri));
    let mut b = Builder {
        graph: Graph::new(),
    };

    let catalog = NamedOrBlankNode::from(catalog_iri);
    b.add(&catalog, rdf::TYPE, term::CATALOG.into_owned());
    b.add_english(&catalog, term::TITLE, "opengov-api catalog");
    b.add_english(
        &catalog,
        term::DESCRIPTION,
        "Datasets published by this opengov-api service: the data of the OGP Local action plan \
         and the city's geoportal registries, each with its distributions.",
    );

    // The API itself, which serves every dataset.
    let service = named(urls.api("/catalog#service"));
    b.add(&catalog, term::SERVICE, service.clone());
    b.add(&service, rdf::TYPE, term::DATA_SERVICE.into_owned());
    b.add_english(&service, term::TITLE, "opengov-api");
    b.add(
        &service,
        term::ENDPOINT_URL,
        NamedNode::new_unchecked(urls.api("")),
    );
    b.add(
        &service,
        term::ENDPOINT_DESCRIPTION,
        NamedNode::new_unchecked(urls.api("/openapi.json")),
    );

    let add_distribution = |b: &mut Builder,
                            dataset: &NamedOrBlankNode,
                            iri: String,
                            url: String,
                            format: DistributionFormat,
                            title_prefix: &str,
                            license: Option<&NamedOrBlankNode>| {
        let distribution = named(iri);
        b.add(dataset, term::HAS_DISTRIBUTION, distribution.clone());
        b.add(&distribution, rdf::TYPE, term::DISTRIBUTION.into_owned());
        b.add_english(
            &distribution,
            term::TITLE,
            &format!("{title_prefix}: {}", format.title()),
        );
        let url = NamedNode::new_unchecked(url);
        b.add(&distribution, term::ACCESS_URL, url.clone());
        if format.is_complete_file() {
            b.add(&distribution, term::DOWNLOAD_URL, url);
        }
        b.add(&distribution, term::ACCESS_SERVICE, service.clone());
        if let Some(media_type) = format.media_type_iri() {
            b.add_iri(&distribution, term::MEDIA_TYPE, media_type);
        }
        if let Some(file_type) = format.file_type_iri() {
            b.add_iri(&distribution, term::FORMAT, file_type);
        }
        if let Some(license) = license {
            b.add(&distribution, term::LICENSE, license.clone());
        }
        distribution
    };

    // The action plan: every plan collection, JSON pages and complete CSV files.
    let plan = named(urls.api("/plans"));
    b.add(&catalog, term::HAS_DATASET, plan.clone());
    b.add(&service, term::SERVES_DATASET, plan.clone());
    b.add(&plan, rdf::TYPE, term::DATASET.into_owned());
    b.add(
        &plan,
        term::IDENTIFIER,
        Literal::new_simple_literal(releases::PLAN),
    );
    for p in &data.plans {
        b.add_texts(&plan, term::TITLE, &p.texts, "title");
        b.add_texts(&plan, term::DESCRIPTION, &p.texts, "description");
        if let Some(katottg) = p.member.as_ref().and_then(|m| m.row.katottg.as_deref()) {
            add_spatial(&mut b, &plan, katottg);
        }
    }
    if let Some(release) = &data.plan_release {
        b.add(&plan, term::MODIFIED, release_literal(release));
    }
    for collection in PLAN_COLLECTIONS {
        for format in [DistributionFormat::Json, DistributionFormat::Csv] {
            let path = format!("/{collection}{}", format.suffix());
            add_distribution(
                &mut b,
                &plan,
                urls.api(&format!("/plans#{collection}-{}", format.name())),
                urls.api(&path),
                format,
                collection,
                None,
            );
        }
    }

    for entry in &data.registries {
        let r = &entry.registry;
        let slug = r.slug();
        let dataset = named(urls.api(&format!("/registries/{slug}")));
        b.add(&catalog, term::HAS_DATASET, dataset.clone());
        b.add(&service, term::SERVES_DATASET, dataset.clone());
        b.add(&dataset, rdf::TYPE, term::DATASET.into_owned());
        b.add(
            &dataset,
            term::IDENTIFIER,
            Literal::new_simple_literal(slug),
        );
        b.add_texts(&dataset, term::TITLE, &r.texts, "title");
        b.add_texts(&dataset, term::DESCRIPTION, &r.texts, "description");
        for (lang, words) in r.texts.all("keywords") {
            for word in words.split("; ").filter(|w| !w.is_empty()) {
                if let Ok(literal) = Literal::new_language_tagged_literal(word, lang.code()) {
                    b.add(&dataset, term::KEYWORD, literal);
                }
            }
        }
        if r.row.sample {
            b.add(&dataset, term::TYPE, term::SYNTHETIC_DATA.into_owned());
            b.add_texts(&dataset, rdfs::COMMENT, &r.texts, "sample_note");
        }
        if let Some(frequency) = parse_stored::<UpdateFrequency>(r.row.update_frequency.as_deref())
        {
            b.add_iri(
                &dataset,
                term::ACCRUAL_PERIODICITY,
                &frequency_iri(frequency),
            );
        }
        if let Some(issued) = r.row.issued.as_deref().and_then(partial_date_literal) {
            b.add(&dataset, term::ISSUED, issued);
        }
        // The latest release is when this service last changed the items; without one, the
        // passport's own date.
        let modified = match &entry.latest_release {
            Some(release) => Some(release_literal(release)),
            None => r.row.modified.as_deref().and_then(partial_date_literal),
        };
        if let Some(modified) = modified {
            b.add(&dataset, term::MODIFIED, modified);
        }
        for code in r.row.languages.split(',').filter_map(language_iri) {
            b.add_iri(&dataset, term::LANGUAGE, &code);
        }
        if let Some(katottg) = &r.row.spatial {
            add_spatial(&mut b, &dataset, katottg);
        }
        if let Some(commitment) = &r.row.related_commitment_id {
            b.add_iri(
                &dataset,
                term::RELATION,
                &urls.api(&format!("/commitments/{commitment}")),
            );
        }
        if let Some(institution) = r
            .row
            .publisher_id
            .as_ref()
            .and_then(|id| data.publishers.get(id))
            && let Ok(agent) =
                NamedNode::new(urls.api(&format!("/institutions/{}", institution.row.id)))
        {
            let agent = NamedOrBlankNode::from(agent);
            b.add(&dataset, term::PUBLISHER, agent.clone());
            b.add(&agent, rdf::TYPE, term::AGENT.into_owned());
            b.add_texts(&agent, term::NAME, &institution.texts, "name");
        }
        if r.row.contact_name.is_some() || r.row.contact_email.is_some() {
            let contact =
                NamedOrBlankNode::from(BlankNode::new_unchecked(format!("contact-{slug}")));
            b.add(&dataset, term::CONTACT_POINT, contact.clone());
            b.add(&contact, rdf::TYPE, term::VCARD_KIND.into_owned());
            if let Some(name) = &r.row.contact_name {
                b.add(&contact, term::VCARD_FN, Literal::new_simple_literal(name));
            }
            if let Some(email) = &r.row.contact_email {
                b.add_iri(&contact, term::VCARD_HAS_EMAIL, &format!("mailto:{email}"));
            }
        }
        for standard in &entry.standards {
            if let Some(url) = standard.url.as_deref()
                && let Ok(node) = NamedNode::new(url)
            {
                let node = NamedOrBlankNode::from(node);
                b.add(&dataset, term::CONFORMS_TO, node.clone());
                b.add(&node, rdf::TYPE, term::STANDARD.into_owned());
                // Source titles are the project's wording, in no declared language.
                b.add(
                    &node,
                    term::TITLE,
                    Literal::new_simple_literal(&standard.title),
                );
            }
        }
        let license = r
            .row
            .license_url
            .as_deref()
            .and_then(|url| NamedNode::new(url).ok())
            .map(NamedOrBlankNode::from);
        if let Some(license) = &license {
            b.add(&dataset, term::LICENSE, license.clone());
            b.add(license, rdf::TYPE, term::LICENSE_DOCUMENT.into_owned());
            if let Some(spdx) = &r.row.license {
                b.add(license, term::IDENTIFIER, Literal::new_simple_literal(spdx));
            }
        }
        let mut formats = vec![DistributionFormat::Json, DistributionFormat::Csv];
        if r.geometry != GeometryKind::None {
            formats.push(DistributionFormat::GeoJson);
        }
        formats.push(DistributionFormat::NdJson);
        for format in formats {
            let items = format!("/registries/{slug}/items{}", format.suffix());
            let distribution = add_distribution(
                &mut b,
                &dataset,
                urls.api(&format!("/registries/{slug}#{}", format.name())),
                urls.api(&items),
                format,
                "Items",
                license.as_ref(),
            );
            if format == DistributionFormat::Csv {
                // The CSVW metadata describes the CSV's columns: the schema it conforms to.
                b.add(
                    &distribution,
                    term::CONFORMS_TO,
                    NamedNode::new_unchecked(urls.api(&format!("{items}-metadata.json"))),
                );
            }
        }
    }
    Ok(b.graph)
}

/// `dct:spatial` as a `dct:Location` identified by its KATOTTG code: the codifier publishes no
/// IRIs, so the code stays a literal.
fn add_spatial(b: &mut Builder, dataset: &NamedOrBlankNode, katottg: &str) {
    let Ok(location) = BlankNode::new(format!("katottg-{katottg}")) else {
        return;
    };
    let location = NamedOrBlankNode::from(location);
    b.add(dataset, term::SPATIAL, location.clone());
    b.add(&location, rdf::TYPE, term::LOCATION.into_owned());
    b.add(
        &location,
        term::IDENTIFIER,
        Literal::new_simple_literal(katottg),
    );
}

/// The triples in a fixed order (subject, predicate, object), so the same data always gives the
/// same bytes and each subject's triples are consecutive (the JSON-LD writer groups only those).
fn sorted(graph: &Graph) -> Vec<Triple> {
    let mut triples: Vec<Triple> = graph.iter().map(|t| t.into_owned()).collect();
    triples.sort_by_cached_key(|t| {
        (
            t.subject.to_string(),
            t.predicate.as_str().to_owned(),
            t.object.to_string(),
        )
    });
    triples
}

/// The graph as Turtle.
pub fn to_turtle(graph: &Graph) -> std::io::Result<Vec<u8>> {
    let mut serializer = TurtleSerializer::new();
    for (prefix, iri) in PREFIXES {
        serializer = serializer
            .with_prefix(*prefix, *iri)
            .map_err(std::io::Error::other)?;
    }
    let mut writer = serializer.for_writer(Vec::new());
    for triple in sorted(graph) {
        writer.serialize_triple(&triple)?;
    }
    writer.finish()
}

/// The graph as JSON-LD: node objects with full IRIs in `@graph`, and a `@context` declaring the
/// usual prefixes.
pub fn to_json_ld(graph: &Graph) -> std::io::Result<Vec<u8>> {
    let mut serializer = JsonLdSerializer::new();
    for (prefix, iri) in PREFIXES {
        serializer = serializer
            .with_prefix(*prefix, *iri)
            .map_err(std::io::Error::other)?;
    }
    let mut writer = serializer.for_writer(Vec::new());
    for triple in sorted(graph) {
        writer.serialize_quad(triple.as_ref().in_graph(oxrdf::GraphNameRef::DefaultGraph))?;
    }
    writer.finish()
}
