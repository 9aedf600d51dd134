//! What the catalog's triples are made of: RDF terms, the prefixes written into both documents,
//! and the outside resources it references (EU authority tables, IANA media types, ADMS types,
//! standards) with the class — and for SKOS concepts the label — that DCAT-AP 3's range shapes
//! require of a reference.

use crate::models::vocab::{InstitutionKind, UpdateFrequency};

/// Prefixes written into both documents (Turtle `@prefix`, JSON-LD `@context`).
pub const PREFIXES: &[(&str, &str)] = &[
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("spdx", "http://spdx.org/rdf/terms#"),
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
    pub const BYTE_SIZE: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#byteSize");
    pub const ENDPOINT_URL: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#endpointURL");
    pub const ENDPOINT_DESCRIPTION: N<'_> =
        N::new_unchecked("http://www.w3.org/ns/dcat#endpointDescription");
    pub const SERVES_DATASET: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#servesDataset");
    pub const KEYWORD: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#keyword");
    pub const THEME: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#theme");
    pub const THEME_TAXONOMY: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#themeTaxonomy");
    pub const CONTACT_POINT: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#contactPoint");
    pub const HAS_VERSION: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#hasVersion");
    pub const VERSION: N<'_> = N::new_unchecked("http://www.w3.org/ns/dcat#version");
    pub const PREVIOUS_VERSION: N<'_> =
        N::new_unchecked("http://www.w3.org/ns/dcat#previousVersion");

    pub const TITLE: N<'_> = N::new_unchecked("http://purl.org/dc/terms/title");
    pub const DESCRIPTION: N<'_> = N::new_unchecked("http://purl.org/dc/terms/description");
    pub const IDENTIFIER: N<'_> = N::new_unchecked("http://purl.org/dc/terms/identifier");
    pub const PUBLISHER: N<'_> = N::new_unchecked("http://purl.org/dc/terms/publisher");
    pub const LICENSE: N<'_> = N::new_unchecked("http://purl.org/dc/terms/license");
    pub const LICENSE_DOCUMENT: N<'_> =
        N::new_unchecked("http://purl.org/dc/terms/LicenseDocument");
    pub const ACCRUAL_PERIODICITY: N<'_> =
        N::new_unchecked("http://purl.org/dc/terms/accrualPeriodicity");
    pub const FREQUENCY: N<'_> = N::new_unchecked("http://purl.org/dc/terms/Frequency");
    pub const ISSUED: N<'_> = N::new_unchecked("http://purl.org/dc/terms/issued");
    pub const MODIFIED: N<'_> = N::new_unchecked("http://purl.org/dc/terms/modified");
    pub const SPATIAL: N<'_> = N::new_unchecked("http://purl.org/dc/terms/spatial");
    pub const LOCATION: N<'_> = N::new_unchecked("http://purl.org/dc/terms/Location");
    pub const CONFORMS_TO: N<'_> = N::new_unchecked("http://purl.org/dc/terms/conformsTo");
    pub const STANDARD: N<'_> = N::new_unchecked("http://purl.org/dc/terms/Standard");
    pub const FORMAT: N<'_> = N::new_unchecked("http://purl.org/dc/terms/format");
    pub const MEDIA_TYPE_CLASS: N<'_> = N::new_unchecked("http://purl.org/dc/terms/MediaType");
    pub const MEDIA_TYPE_OR_EXTENT: N<'_> =
        N::new_unchecked("http://purl.org/dc/terms/MediaTypeOrExtent");
    pub const LANGUAGE: N<'_> = N::new_unchecked("http://purl.org/dc/terms/language");
    pub const LINGUISTIC_SYSTEM: N<'_> =
        N::new_unchecked("http://purl.org/dc/terms/LinguisticSystem");
    pub const TYPE: N<'_> = N::new_unchecked("http://purl.org/dc/terms/type");
    pub const RELATION: N<'_> = N::new_unchecked("http://purl.org/dc/terms/relation");

    pub const AGENT: N<'_> = N::new_unchecked("http://xmlns.com/foaf/0.1/Agent");
    pub const NAME: N<'_> = N::new_unchecked("http://xmlns.com/foaf/0.1/name");
    pub const HOMEPAGE: N<'_> = N::new_unchecked("http://xmlns.com/foaf/0.1/homepage");
    pub const PAGE: N<'_> = N::new_unchecked("http://xmlns.com/foaf/0.1/page");
    pub const DOCUMENT: N<'_> = N::new_unchecked("http://xmlns.com/foaf/0.1/Document");

    pub const VCARD_KIND: N<'_> = N::new_unchecked("http://www.w3.org/2006/vcard/ns#Kind");
    pub const VCARD_FN: N<'_> = N::new_unchecked("http://www.w3.org/2006/vcard/ns#fn");
    pub const VCARD_HAS_EMAIL: N<'_> = N::new_unchecked("http://www.w3.org/2006/vcard/ns#hasEmail");
    pub const VCARD_HAS_URL: N<'_> = N::new_unchecked("http://www.w3.org/2006/vcard/ns#hasURL");

    pub const CONCEPT: N<'_> = N::new_unchecked("http://www.w3.org/2004/02/skos/core#Concept");
    pub const CONCEPT_SCHEME: N<'_> =
        N::new_unchecked("http://www.w3.org/2004/02/skos/core#ConceptScheme");
    pub const PREF_LABEL: N<'_> = N::new_unchecked("http://www.w3.org/2004/02/skos/core#prefLabel");
    pub const IN_SCHEME: N<'_> = N::new_unchecked("http://www.w3.org/2004/02/skos/core#inScheme");

    pub const CHECKSUM: N<'_> = N::new_unchecked("http://spdx.org/rdf/terms#checksum");
    pub const CHECKSUM_CLASS: N<'_> = N::new_unchecked("http://spdx.org/rdf/terms#Checksum");
    pub const ALGORITHM: N<'_> = N::new_unchecked("http://spdx.org/rdf/terms#algorithm");
    pub const CHECKSUM_VALUE: N<'_> = N::new_unchecked("http://spdx.org/rdf/terms#checksumValue");
    pub const CHECKSUM_ALGORITHM: N<'_> =
        N::new_unchecked("http://spdx.org/rdf/terms#ChecksumAlgorithm");
    pub const SHA256: N<'_> =
        N::new_unchecked("http://spdx.org/rdf/terms#checksumAlgorithm_sha256");
}

/// A concept of an outside vocabulary, with the English label its authority gives it (DCAT-AP
/// requires a `skos:prefLabel` of every `skos:Concept` in the catalog).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concept {
    pub iri: &'static str,
    pub label: &'static str,
}

/// EU dataset type of the sample registries: generated, i.e. synthetic, data.
pub const SYNTHETIC_DATA: Concept = Concept {
    iri: "http://publications.europa.eu/resource/authority/dataset-type/SYNTHETIC_DATA",
    label: "Synthetic data",
};

/// The EU data-theme table: the catalog's theme taxonomy.
pub const DATA_THEMES: Concept = Concept {
    iri: "http://publications.europa.eu/resource/authority/data-theme",
    label: "Data theme",
};

/// The EU data theme this project gives every dataset and the API (its own classification: the
/// plan and the registries are the records of a city government).
pub const THEME_GOVERNMENT: Concept = Concept {
    iri: "http://publications.europa.eu/resource/authority/data-theme/GOVE",
    label: "Government and public sector",
};

/// The ADMS publisher type of the city's own bodies.
const LOCAL_AUTHORITY: Concept = Concept {
    iri: "http://purl.org/adms/publishertype/LocalAuthority",
    label: "Local Authority",
};

/// The ADMS publisher type of an institution kind, where the kind decides it: the council, its
/// executive committee and its executive bodies are the local authority. Other kinds (a communal
/// enterprise, a library, …) fit no ADMS type without more knowledge, so they get none.
pub fn publisher_type(kind: InstitutionKind) -> Option<Concept> {
    match kind {
        InstitutionKind::CityCouncil
        | InstitutionKind::ExecutiveCommittee
        | InstitutionKind::ExecutiveBody => Some(LOCAL_AUTHORITY),
        _ => None,
    }
}

/// The ADMS licence type of an SPDX licence id, for the licences whose terms decide it:
/// CC0 waives every right (public domain); CC BY and Apache 2.0 ask for attribution and nothing
/// that a stricter type would name. Other licences get no type rather than a guess.
pub fn licence_type(spdx: &str) -> Option<Concept> {
    match spdx {
        "CC0-1.0" | "PDDL-1.0" => Some(Concept {
            iri: "http://purl.org/adms/licencetype/PublicDomain",
            label: "Public domain",
        }),
        "CC-BY-4.0" | "CC-BY-3.0" | "ODC-By-1.0" | "Apache-2.0" => Some(Concept {
            iri: "http://purl.org/adms/licencetype/Attribution",
            label: "Attribution",
        }),
        _ => None,
    }
}

/// A standard the catalog says something conforms to, with its title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standard {
    pub iri: &'static str,
    pub title: &'static str,
}

/// The API's errors are RFC 9457 problem documents (checked by the test suite).
pub const PROBLEM_DETAILS: Standard = Standard {
    iri: "https://www.rfc-editor.org/rfc/rfc9457",
    title: "RFC 9457: Problem Details for HTTP APIs",
};

/// NDJSON has neither an IANA media type nor an EU file type; its specification names it.
pub const NDJSON_SPEC: Standard = Standard {
    iri: "https://github.com/ndjson/ndjson-spec",
    title: "NDJSON: Newline Delimited JSON",
};

/// The EU frequency authority IRI of an 835 update frequency.
pub fn frequency_iri(frequency: UpdateFrequency) -> String {
    format!(
        "http://publications.europa.eu/resource/authority/frequency/{}",
        frequency.eu_code()
    )
}

/// The EU language authority IRI of a language code, for the languages this project knows.
pub fn language_iri(code: &str) -> Option<String> {
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

    /// The specification a file of this format follows, where no media type or file type
    /// names the format.
    pub fn specification(self) -> Option<Standard> {
        (self == DistributionFormat::NdJson).then_some(NDJSON_SPEC)
    }

    /// The path suffix of the representation (`/items` + suffix, `/commitments` + suffix).
    pub fn suffix(self) -> &'static str {
        match self {
            DistributionFormat::Json => "",
            DistributionFormat::Csv => ".csv",
            DistributionFormat::GeoJson => ".geojson",
            DistributionFormat::NdJson => ".ndjson",
        }
    }

    /// JSON answers in pages (an access URL); the other formats are complete files without
    /// `limit` (a download URL).
    pub fn is_complete_file(self) -> bool {
        self != DistributionFormat::Json
    }

    pub fn title(self) -> &'static str {
        match self {
            DistributionFormat::Json => "JSON pages",
            DistributionFormat::Csv => "CSV (UTF-8, comma, CRLF, header row)",
            DistributionFormat::GeoJson => "GeoJSON FeatureCollection (WGS84)",
            DistributionFormat::NdJson => "NDJSON (application/x-ndjson), one item per line",
        }
    }
}
