//! The DCAT-AP catalog and the CSVW metadata through HTTP. Both catalog serialisations are parsed
//! with RDF parsers and checked triple by triple; expectations come from the registries' own JSON
//! (and the items CSV), never from the catalog code.

use oxjsonld::JsonLdParser;
use oxrdf::dataset::CanonicalizationAlgorithm;
use oxrdf::vocab::{rdf, xsd};
use oxrdf::{Graph, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Term, TermRef, Triple};
use oxttl::TurtleParser;
use serde_json::Value;

use crate::both_backends;
use crate::common::TestApp;

const DCAT: &str = "http://www.w3.org/ns/dcat#";
const DCT: &str = "http://purl.org/dc/terms/";
const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
const FOAF: &str = "http://xmlns.com/foaf/0.1/";

fn dcat(local: &str) -> NamedNode {
    NamedNode::new(format!("{DCAT}{local}")).unwrap()
}

fn dct(local: &str) -> NamedNode {
    NamedNode::new(format!("{DCT}{local}")).unwrap()
}

fn iri(value: &str) -> NamedNode {
    NamedNode::new(value).unwrap()
}

fn parse_turtle(body: &[u8]) -> Graph {
    let mut graph = Graph::new();
    for triple in TurtleParser::new().for_slice(body) {
        graph.insert(&triple.expect("valid Turtle"));
    }
    graph
}

fn parse_json_ld(body: &[u8]) -> Graph {
    let mut graph = Graph::new();
    for quad in JsonLdParser::new().for_slice(body) {
        graph.insert(&Triple::from(quad.expect("valid JSON-LD")));
    }
    graph
}

fn objects(graph: &Graph, subject: &NamedOrBlankNode, predicate: &NamedNode) -> Vec<Term> {
    graph
        .objects_for_subject_predicate(subject, predicate)
        .map(TermRef::into_owned)
        .collect()
}

fn iri_objects(graph: &Graph, subject: &NamedOrBlankNode, predicate: &NamedNode) -> Vec<String> {
    objects(graph, subject, predicate)
        .into_iter()
        .filter_map(|t| match t {
            Term::NamedNode(n) => Some(n.into_string()),
            _ => None,
        })
        .collect()
}

fn of_type(graph: &Graph, class: &NamedNode) -> Vec<NamedOrBlankNode> {
    graph
        .subjects_for_predicate_object(rdf::TYPE, class)
        .map(|s| s.into_owned())
        .collect()
}

fn node(value: &str) -> NamedOrBlankNode {
    NamedOrBlankNode::from(iri(value))
}

/// Both serialisations, parsed, after checking their media types and the JSON-LD context.
async fn catalog_graphs(app: &TestApp, headers: &[(&str, &str)]) -> (Graph, Graph) {
    let jsonld = app.get_with("/api/v1/catalog.jsonld", headers).await;
    assert_eq!(jsonld.status, 200, "{}", jsonld.text());
    assert_eq!(jsonld.header("content-type"), Some("application/ld+json"));
    let context = &jsonld.json()["@context"];
    for prefix in ["dcat", "dct", "foaf", "vcard", "xsd"] {
        assert!(context[prefix].is_string(), "@context declares {prefix}");
    }
    let ttl = app.get_with("/api/v1/catalog.ttl", headers).await;
    assert_eq!(ttl.status, 200, "{}", ttl.text());
    assert!(
        ttl.header("content-type")
            .is_some_and(|c| c.starts_with("text/turtle"))
    );
    (parse_json_ld(&jsonld.body), parse_turtle(&ttl.body))
}

/// The catalog's IRI, and the public base it was built from (`http://host`).
fn catalog_and_base(graph: &Graph) -> (NamedOrBlankNode, String) {
    let catalogs = of_type(graph, &dcat("Catalog"));
    assert_eq!(catalogs.len(), 1, "one catalog");
    let catalog = catalogs[0].clone();
    let NamedOrBlankNode::NamedNode(named) = &catalog else {
        panic!("the catalog has an IRI")
    };
    let base = named
        .as_str()
        .strip_suffix("/api/v1/catalog")
        .expect("catalog IRI under /api/v1")
        .to_owned();
    (catalog, base)
}

fn without_blank_nodes(graph: &Graph) -> Vec<String> {
    let mut triples: Vec<String> = graph
        .iter()
        .filter(|t| {
            !matches!(t.subject, oxrdf::NamedOrBlankNodeRef::BlankNode(_))
                && !matches!(t.object, TermRef::BlankNode(_))
        })
        .map(|t| t.to_string())
        .collect();
    triples.sort();
    triples
}

async fn registries(app: &TestApp) -> Vec<Value> {
    let list = app.get("/api/v1/registries?limit=1000").await.json();
    assert_eq!(
        list["total"].as_u64().unwrap() as usize,
        list["items"].as_array().unwrap().len()
    );
    list["items"].as_array().unwrap().clone()
}

both_backends!(catalog_describes_every_registry_and_the_plan, |app| {
    let (jsonld, ttl) = catalog_graphs(&app, &[]).await;
    assert!(!ttl.is_empty());
    assert_eq!(
        without_blank_nodes(&jsonld),
        without_blank_nodes(&ttl),
        "both serialisations carry the same triples"
    );
    let (mut a, mut b) = (jsonld.clone(), ttl.clone());
    a.canonicalize(CanonicalizationAlgorithm::Unstable);
    b.canonicalize(CanonicalizationAlgorithm::Unstable);
    assert!(a == b, "the two graphs are isomorphic");
    let graph = ttl;
    let (catalog, base) = catalog_and_base(&graph);
    let api = format!("{base}/api/v1");

    let registries = registries(&app).await;
    let listed = iri_objects(&graph, &catalog, &dcat("dataset"));
    assert_eq!(
        listed.len(),
        registries.len() + 1,
        "a dataset per registry and the plan"
    );
    // Every other dataset is a version (release) of a listed one.
    let datasets = of_type(&graph, &dcat("Dataset"));
    let versions: Vec<String> = listed
        .iter()
        .flat_map(|d| iri_objects(&graph, &node(d), &dcat("hasVersion")))
        .collect();
    assert!(!versions.is_empty(), "the fixtures' releases are versions");
    assert_eq!(datasets.len(), listed.len() + versions.len());

    let service = node(&format!("{api}/catalog#service"));
    assert_eq!(
        iri_objects(&graph, &service, &dcat("endpointURL")),
        vec![api.clone()]
    );
    assert_eq!(
        iri_objects(&graph, &service, &dcat("endpointDescription")),
        vec![format!("{api}/openapi.json")]
    );
    let served = iri_objects(&graph, &service, &dcat("servesDataset"));
    assert_eq!(served.len(), datasets.len(), "the API serves every dataset");

    // Whoever runs this instance publishes the catalog; unconfigured, the catalog says only that.
    let operator = format!("{api}/catalog#operator");
    assert_eq!(
        iri_objects(&graph, &catalog, &dct("publisher")),
        vec![operator.clone()]
    );
    assert_eq!(
        objects(&graph, &node(&operator), &iri(&format!("{FOAF}name"))),
        vec![Term::from(
            Literal::new_language_tagged_literal(
                format!("Operator of the opengov-api service at {base}"),
                "en"
            )
            .unwrap()
        )]
    );
    assert!(
        graph
            .triples_for_subject(&node(&format!("{api}/catalog#contact")))
            .next()
            .is_none(),
        "no contact point without a configured one"
    );
    // Its home page is this service's web pages.
    let home = iri_objects(&graph, &catalog, &iri(&format!("{FOAF}homepage")));
    assert_eq!(home, vec![format!("{base}/")]);
    let page = app.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    // The catalog's languages are those its texts are written in.
    let mut tags: Vec<String> = graph
        .iter()
        .filter_map(|t| match t.object {
            TermRef::Literal(l) => l.language().map(str::to_owned),
            _ => None,
        })
        .collect();
    tags.sort();
    tags.dedup();
    let mut languages = iri_objects(&graph, &catalog, &dct("language"));
    languages.sort();
    let eu = |tag: &str| {
        let code = match tag {
            "en" => "ENG",
            "es" => "SPA",
            "uk" => "UKR",
            other => panic!("unexpected language {other}"),
        };
        format!("http://publications.europa.eu/resource/authority/language/{code}")
    };
    let mut expected: Vec<String> = tags.iter().map(|t| eu(t)).collect();
    expected.sort();
    assert_eq!(languages, expected);
    // Every listed dataset: the project's theme.
    let government = "http://publications.europa.eu/resource/authority/data-theme/GOVE";
    for dataset in &listed {
        assert_eq!(
            iri_objects(&graph, &node(dataset), &dcat("theme")),
            vec![government.to_owned()],
            "{dataset}"
        );
    }

    // The plan: its titles, in the languages the plan has them.
    let plan = node(&format!("{api}/plans"));
    assert!(listed.contains(&format!("{api}/plans")));
    assert_eq!(
        objects(&graph, &plan, &dct("identifier")),
        vec![Term::from(Literal::new_simple_literal("plan"))]
    );
    for lang in ["uk", "en", "es"] {
        let served = app
            .get(&format!("/api/v1/plans/khm-2021-2025?lang={lang}"))
            .await
            .json();
        let title = &served["title"];
        let literal = Term::from(
            Literal::new_language_tagged_literal(title["value"].as_str().unwrap(), lang).unwrap(),
        );
        assert_eq!(
            objects(&graph, &plan, &dct("title")).contains(&literal),
            title["fallback"] == false,
            "plan title in {lang}: only where the plan has one"
        );
    }

    for registry in &registries {
        let slug = registry["slug"].as_str().unwrap();
        let dataset = node(&format!("{api}/registries/{slug}"));
        assert!(
            datasets.contains(&dataset),
            "{slug} is a dcat:Dataset in the catalog"
        );
        assert!(listed.contains(&format!("{api}/registries/{slug}")));
        assert!(served.contains(&format!("{api}/registries/{slug}")));

        // Every title and description language the registry has, and no other.
        let titles = objects(&graph, &dataset, &dct("title"));
        assert!(!titles.is_empty(), "{slug} has a title");
        for lang in ["uk", "en", "es"] {
            let in_lang = app
                .get(&format!("/api/v1/registries/{slug}?lang={lang}"))
                .await
                .json();
            for (field, predicate) in [("title", "title"), ("description", "description")] {
                let text = &in_lang[field];
                let tagged: Vec<Term> = objects(&graph, &dataset, &dct(predicate))
                    .into_iter()
                    .filter(|t| matches!(t, Term::Literal(l) if l.language() == Some(lang)))
                    .collect();
                if text.is_null() || text["fallback"] == true {
                    assert!(tagged.is_empty(), "{slug} {field}@{lang}: never translated");
                } else {
                    let expected = Term::from(
                        Literal::new_language_tagged_literal(text["value"].as_str().unwrap(), lang)
                            .unwrap(),
                    );
                    assert_eq!(tagged, vec![expected], "{slug} {field}@{lang}");
                }
            }
        }

        // Sample data is typed as synthetic data and says so in words.
        let types = iri_objects(&graph, &dataset, &dct("type"));
        let synthetic =
            "http://publications.europa.eu/resource/authority/dataset-type/SYNTHETIC_DATA";
        assert_eq!(
            types.contains(&synthetic.to_owned()),
            registry["sample"] == true,
            "{slug}: dct:type SYNTHETIC_DATA exactly for sample registries"
        );
        let comments = objects(&graph, &dataset, &oxrdf::vocab::rdfs::COMMENT.into_owned());
        assert_eq!(!comments.is_empty(), registry["sample"] == true, "{slug}");

        // No frequency in the data, no frequency in the catalog.
        assert_eq!(
            objects(&graph, &dataset, &dct("accrualPeriodicity")).is_empty(),
            registry["update_frequency"].is_null(),
            "{slug}"
        );
        // The KATOTTG coverage, as a Location identified by the code.
        let spatial = objects(&graph, &dataset, &dct("spatial"));
        match registry["spatial"].as_str() {
            Some(code) => {
                assert_eq!(spatial.len(), 1, "{slug}");
                let location = match &spatial[0] {
                    Term::BlankNode(b) => NamedOrBlankNode::from(b.clone()),
                    other => panic!("{slug}: spatial is a Location node, not {other}"),
                };
                assert_eq!(
                    objects(&graph, &location, &dct("identifier")),
                    vec![Term::from(Literal::new_simple_literal(code))]
                );
            }
            None => assert!(spatial.is_empty()),
        }
        // The licence the registry names.
        match registry["license_url"].as_str() {
            Some(url) => assert_eq!(
                iri_objects(&graph, &dataset, &dct("license")),
                vec![url.to_owned()]
            ),
            None => assert!(objects(&graph, &dataset, &dct("license")).is_empty()),
        }
        // The publisher, when the registry names one, with its name.
        match registry["publisher_id"].as_str() {
            Some(id) => {
                let agent = format!("{api}/institutions/{id}");
                assert_eq!(
                    iri_objects(&graph, &dataset, &dct("publisher")),
                    vec![agent.clone()]
                );
                let names = objects(&graph, &node(&agent), &iri(&format!("{FOAF}name")));
                assert!(!names.is_empty(), "{slug}: the publisher has a name");
                assert_eq!(app.get(&agent.replace(&base, "")).await.status, 200);
            }
            // No publisher in the data: the operator, who makes the data available.
            None => assert_eq!(
                iri_objects(&graph, &dataset, &dct("publisher")),
                vec![operator.clone()],
                "{slug}"
            ),
        }
    }
});

both_backends!(every_distribution_resolves_in_its_media_type, |app| {
    let (_, graph) = catalog_graphs(&app, &[]).await;
    let (_, base) = catalog_and_base(&graph);
    let api = format!("{base}/api/v1");
    let path = |url: &str| -> String {
        url.strip_prefix(&base)
            .unwrap_or_else(|| panic!("{url} is under {base}"))
            .to_owned()
    };
    let iana = "http://www.iana.org/assignments/media-types/";
    let file_type = "http://publications.europa.eu/resource/authority/file-type/";

    let distributions = of_type(&graph, &dcat("Distribution"));
    assert!(!distributions.is_empty());
    for distribution in &distributions {
        let access = iri_objects(&graph, distribution, &dcat("accessURL"));
        assert_eq!(access.len(), 1, "{distribution} has an access URL");
        let downloads = iri_objects(&graph, distribution, &dcat("downloadURL"));
        for url in access.iter().chain(&downloads) {
            let res = app.get(&path(url)).await;
            assert_eq!(res.status, 200, "{url}");
            if let Some(media_type) = iri_objects(&graph, distribution, &dcat("mediaType")).first()
            {
                let expected = media_type.strip_prefix(iana).expect("an IANA media type");
                let served = res.header("content-type").unwrap();
                assert!(
                    served.starts_with(expected),
                    "{url}: {served} is {expected}"
                );
            }
        }
        // Schemas this service serves answer; outside specifications (NDJSON's) are not fetched.
        for schema in iri_objects(&graph, distribution, &dct("conformsTo")) {
            if schema.starts_with(&base) {
                assert_eq!(app.get(&path(&schema)).await.status, 200, "{schema}");
            }
        }
    }

    // Registries: JSON pages, complete CSV and NDJSON files, GeoJSON only with geometry.
    for registry in registries(&app).await {
        let slug = registry["slug"].as_str().unwrap();
        let dataset = node(&format!("{api}/registries/{slug}"));
        let mut by_suffix = std::collections::BTreeMap::new();
        for distribution in iri_objects(&graph, &dataset, &dcat("distribution")) {
            let distribution = node(&distribution);
            let access = iri_objects(&graph, &distribution, &dcat("accessURL")).remove(0);
            let suffix = access
                .strip_prefix(&format!("{api}/registries/{slug}/items"))
                .expect("items URL")
                .to_owned();
            by_suffix.insert(suffix, distribution);
        }
        let mut expected = vec!["", ".csv", ".ndjson"];
        if registry["geometry"] != "none" {
            expected.push(".geojson");
        }
        expected.sort();
        assert_eq!(
            by_suffix.keys().map(String::as_str).collect::<Vec<_>>(),
            expected,
            "{slug}"
        );
        let csv = &by_suffix[".csv"];
        assert_eq!(
            iri_objects(&graph, csv, &dcat("mediaType")),
            vec![format!("{iana}text/csv")]
        );
        assert_eq!(
            iri_objects(&graph, csv, &dct("format")),
            vec![format!("{file_type}CSV")]
        );
        assert_eq!(
            iri_objects(&graph, csv, &dct("conformsTo")),
            vec![format!("{api}/registries/{slug}/items.csv-metadata.json")]
        );
        assert_eq!(
            iri_objects(&graph, &by_suffix[""], &dct("format")),
            vec![format!("{file_type}JSON")]
        );
        assert!(
            iri_objects(&graph, &by_suffix[""], &dcat("downloadURL")).is_empty(),
            "JSON pages are not a complete download"
        );
        for complete in [".csv", ".ndjson"] {
            assert_eq!(
                iri_objects(&graph, &by_suffix[complete], &dcat("downloadURL")),
                vec![format!("{api}/registries/{slug}/items{complete}")]
            );
        }
        if let Some(geojson) = by_suffix.get(".geojson") {
            assert_eq!(
                iri_objects(&graph, geojson, &dcat("mediaType")),
                vec![format!("{iana}application/geo+json")]
            );
            assert_eq!(
                iri_objects(&graph, geojson, &dct("format")),
                vec![format!("{file_type}GEOJSON")]
            );
        }
    }

    // The plan: JSON and CSV of each collection.
    let plan = node(&format!("{api}/plans"));
    let mut downloads: Vec<String> = iri_objects(&graph, &plan, &dcat("distribution"))
        .iter()
        .flat_map(|d| iri_objects(&graph, &node(d), &dcat("downloadURL")))
        .collect();
    downloads.sort();
    let mut expected: Vec<String> = [
        "commitments",
        "institutions",
        "milestones",
        "plans",
        "sources",
    ]
    .iter()
    .map(|c| format!("{api}/{c}.csv"))
    .collect();
    expected.sort();
    assert_eq!(downloads, expected);
    assert_eq!(iri_objects(&graph, &plan, &dcat("distribution")).len(), 10);
});

/// A registry with every passport value the fixtures leave out, defined for this test only.
const FULL_PASSPORT: &str = r#"
slug = "catalog-test"
sample = false
title = { uk = "Тестовий реєстр", en = "Catalog test register" }
description = { en = "Defined by the catalog test." }
keywords = { en = ["test", "catalog"], uk = ["тест"] }
license = "CC-BY-4.0"
license_url = "https://creativecommons.org/licenses/by/4.0/"
publisher_id = "department-of-culture-and-tourism"
contact_name = "Open data desk"
contact_email = "opendata@example.org"
update_frequency = "quarterly"
language = ["uk", "en"]
issued = "2021-09-10"
modified = "2024-03"
spatial = "UA68040470010096613"
geometry = "point"
id_field = "code"
items_file = "items.csv"
lon_column = "lon"
lat_column = "lat"
sources = ["katottg-scalawiki"]
conforms_to = ["data-gov-ua-835-property-register"]
text_sources = { uk = "katottg-scalawiki", en = "katottg-scalawiki" }

[[fields]]
name = "code"
type = "text"
required = true
label = { en = "Code", uk = "Код" }

[[fields]]
name = "area_m2"
type = "decimal"
unit = "m2"
label = { en = "Area" }
description = { en = "Floor area." }

[[fields]]
name = "kind"
type = "text"
required = true
allowed_values = ["a.1", "b"]

[[fields]]
name = "open"
type = "boolean"

[[fields]]
name = "since"
type = "date"

[[fields]]
name = "checked_at"
type = "datetime"

[[fields]]
name = "rooms"
type = "integer"
"#;

fn define_full_passport(app: &TestApp) {
    use opengov_api::models::registries::definition;
    let definition = definition::parse("catalog-test", FULL_PASSPORT).expect("valid definition");
    let mut conn = app.pool().get().unwrap();
    conn.write_transaction(|conn| -> Result<(), diesel::result::Error> {
        definition.store(conn).expect("stored");
        Ok(())
    })
    .unwrap();
}

both_backends!(passport_values_map_to_dcat_terms, |app| {
    use opengov_api::models::registries::{self, import};
    use opengov_api::models::releases;
    define_full_passport(&app);
    let (jsonld, graph) = catalog_graphs(&app, &[]).await;
    assert_eq!(without_blank_nodes(&jsonld), without_blank_nodes(&graph));
    let (_, base) = catalog_and_base(&graph);
    let api = format!("{base}/api/v1");
    let dataset = node(&format!("{api}/registries/catalog-test"));

    assert_eq!(
        iri_objects(&graph, &dataset, &dct("accrualPeriodicity")),
        vec!["http://publications.europa.eu/resource/authority/frequency/QUARTERLY".to_owned()],
        "835 «Щокварталу» is the EU QUARTERLY"
    );
    assert_eq!(
        objects(&graph, &dataset, &dct("issued")),
        vec![Term::from(Literal::new_typed_literal(
            "2021-09-10",
            xsd::DATE
        ))]
    );
    // No release yet: the passport's own month.
    assert_eq!(
        objects(&graph, &dataset, &dct("modified")),
        vec![Term::from(Literal::new_typed_literal(
            "2024-03",
            xsd::G_YEAR_MONTH
        ))]
    );
    let mut languages = iri_objects(&graph, &dataset, &dct("language"));
    languages.sort();
    assert_eq!(
        languages,
        ["ENG", "UKR"]
            .map(|l| format!("http://publications.europa.eu/resource/authority/language/{l}"))
    );
    for (word, lang) in [("test", "en"), ("catalog", "en"), ("тест", "uk")] {
        assert!(
            objects(&graph, &dataset, &dcat("keyword")).contains(
                &Literal::new_language_tagged_literal(word, lang)
                    .unwrap()
                    .into()
            ),
            "keyword {word}@{lang}"
        );
    }
    for (title, lang) in [("Тестовий реєстр", "uk"), ("Catalog test register", "en")]
    {
        assert!(
            objects(&graph, &dataset, &dct("title")).contains(
                &Literal::new_language_tagged_literal(title, lang)
                    .unwrap()
                    .into()
            )
        );
    }
    let contacts = objects(&graph, &dataset, &dcat("contactPoint"));
    assert_eq!(contacts.len(), 1);
    let contact = match &contacts[0] {
        Term::BlankNode(b) => NamedOrBlankNode::from(b.clone()),
        Term::NamedNode(n) => NamedOrBlankNode::from(n.clone()),
        other => panic!("{other}"),
    };
    assert_eq!(
        iri_objects(&graph, &contact, &iri(&format!("{VCARD}hasEmail"))),
        vec!["mailto:opendata@example.org".to_owned()]
    );
    assert_eq!(
        objects(&graph, &contact, &iri(&format!("{VCARD}fn"))),
        vec![Term::from(Literal::new_simple_literal("Open data desk"))]
    );
    assert!(graph.contains(oxrdf::TripleRef::new(
        &contact,
        rdf::TYPE,
        NamedNodeRef::new(&format!("{VCARD}Kind")).unwrap()
    )));
    assert_eq!(
        iri_objects(&graph, &dataset, &dct("conformsTo")),
        vec!["https://data.gov.ua/pages/835-recm-property-register".to_owned()]
    );
    assert_eq!(
        iri_objects(&graph, &dataset, &dct("publisher")),
        vec![format!(
            "{api}/institutions/department-of-culture-and-tourism"
        )]
    );

    // After an import publishes a release, `modified` is that release's time.
    let mut conn = app.pool().get().unwrap();
    let registry = registries::find_schema(&mut conn, "catalog-test")
        .unwrap()
        .unwrap();
    let rows = "code,area_m2,kind,open,since,checked_at,rooms,lon,lat\n\
                x1,12.5,a.1,true,2020-01-02,2024-05-06T07:08:09Z,3,27.0,49.4\n\
                x2,,b,,,,,,\n";
    import::import(
        &mut conn,
        &registry,
        import::FileFormat::Csv,
        rows.as_bytes(),
        "test",
        import::Publish::Always,
    )
    .unwrap();
    let release = releases::latest(&mut conn, "registries/catalog-test")
        .unwrap()
        .expect("the import published a release");
    drop(conn);
    let (_, graph) = catalog_graphs(&app, &[]).await;
    assert_eq!(
        objects(&graph, &dataset, &dct("modified")),
        vec![Term::from(Literal::new_typed_literal(
            release.created_at.clone(),
            xsd::DATE_TIME
        ))]
    );

    // The CSVW metadata of the same registry: every datatype, unit and allowed value.
    let meta = app
        .get("/api/v1/registries/catalog-test/items.csv-metadata.json")
        .await
        .json();
    let columns = meta["tableSchema"]["columns"].as_array().unwrap();
    let column = |name: &str| {
        columns
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("column {name}"))
            .clone()
    };
    assert_eq!(column("code")["datatype"], "string");
    assert_eq!(
        column("code")["titles"],
        serde_json::json!({"uk": "Код", "en": "Code"})
    );
    assert_eq!(column("area_m2")["datatype"], "number");
    assert_eq!(column("area_m2")["schema:unitText"], "m2");
    assert_eq!(
        column("area_m2")["dc:description"][0]["@value"],
        "Floor area."
    );
    assert_eq!(
        column("kind")["datatype"],
        serde_json::json!({"base": "string", "format": "^(?:a\\.1|b)$"})
    );
    assert_eq!(
        column("open")["datatype"],
        serde_json::json!({"base": "boolean", "format": "true|false"})
    );
    assert_eq!(column("since")["datatype"], "date");
    assert_eq!(column("checked_at")["datatype"], "dateTime");
    assert_eq!(column("rooms")["datatype"], "integer");
    assert_eq!(meta["tableSchema"]["primaryKey"], "code");
    assert_eq!(
        meta["dc:license"]["@id"],
        "https://creativecommons.org/licenses/by/4.0/"
    );
    assert_eq!(
        meta["dc:publisher"]["@id"],
        format!("{api}/institutions/department-of-culture-and-tourism")
    );
    let csv = app
        .get("/api/v1/registries/catalog-test/items.csv")
        .await
        .text();
    let header = csv.split("\r\n").next().unwrap();
    assert_eq!(
        header,
        "code,area_m2,kind,open,since,checked_at,rooms,lon,lat,wkt"
    );
    assert!(
        csv.contains(",true,2020-01-02,2024-05-06T07:08:09Z,3,"),
        "{csv}"
    );
});

/// The CSVW datatype the metadata must give a field of this registry type.
fn expected_datatype(field: &Value) -> Value {
    if let Some(allowed) = field["allowed_values"].as_array() {
        let pattern: Vec<String> = allowed
            .iter()
            .map(|v| {
                v.as_str()
                    .unwrap()
                    .chars()
                    .flat_map(|c| {
                        let escape = "\\^$.|?*+()[]{}/".contains(c);
                        escape.then_some('\\').into_iter().chain([c])
                    })
                    .collect()
            })
            .collect();
        return serde_json::json!({"base": "string", "format": format!("^(?:{})$", pattern.join("|"))});
    }
    match field["type"].as_str().unwrap() {
        "text" => "string".into(),
        "integer" => "integer".into(),
        "decimal" => "number".into(),
        "boolean" => serde_json::json!({"base": "boolean", "format": "true|false"}),
        "date" => "date".into(),
        "datetime" => "dateTime".into(),
        other => panic!("unknown field type {other}"),
    }
}

both_backends!(csv_metadata_matches_the_csv_export, |app| {
    for registry in registries(&app).await {
        let slug = registry["slug"].as_str().unwrap();
        let res = app
            .get(&format!(
                "/api/v1/registries/{slug}/items.csv-metadata.json"
            ))
            .await;
        assert_eq!(res.status, 200, "{slug}: {}", res.text());
        assert_eq!(res.header("content-type"), Some("application/csvm+json"));
        let meta = res.json();
        assert_eq!(meta["@context"], "http://www.w3.org/ns/csvw");
        let url = meta["url"].as_str().unwrap();
        assert!(url.starts_with("http"), "absolute url");
        assert!(
            url.ends_with(&format!("/api/v1/registries/{slug}/items.csv")),
            "{url}"
        );
        let dialect = &meta["dialect"];
        assert_eq!(dialect["delimiter"], ",");
        assert_eq!(dialect["encoding"], "utf-8");
        assert_eq!(dialect["header"], true);
        assert_eq!(dialect["lineTerminators"], serde_json::json!(["\r\n"]));

        // The columns are exactly the CSV's header, in its order.
        let csv = app
            .get(&format!("/api/v1/registries/{slug}/items.csv"))
            .await
            .text();
        let (header, _) = csv.split_once("\r\n").expect("CRLF line ends, as declared");
        assert!(!csv.starts_with('\u{feff}'), "no BOM by default");
        let columns = meta["tableSchema"]["columns"].as_array().unwrap();
        let names: Vec<&str> = columns
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, header.split(',').collect::<Vec<_>>(), "{slug}");
        assert_eq!(meta["tableSchema"]["primaryKey"], registry["id_field"]);

        // Each schema field: datatype, required, and labels in the languages that have them.
        let fields = registry["fields"].as_array().unwrap();
        for (field, column) in fields.iter().zip(columns) {
            assert_eq!(column["name"], field["name"]);
            assert_eq!(
                column["datatype"],
                expected_datatype(field),
                "{slug} {}",
                field["name"]
            );
            assert_eq!(column["required"], field["required"]);
            assert_eq!(
                column["schema:unitText"].as_str(),
                field["unit"].as_str(),
                "{slug} {}",
                field["name"]
            );
        }
        for lang in ["uk", "en", "es"] {
            let in_lang = app
                .get(&format!("/api/v1/registries/{slug}?lang={lang}"))
                .await
                .json();
            for (field, column) in in_lang["fields"].as_array().unwrap().iter().zip(columns) {
                let label = &field["label"];
                if label.is_null() || label["fallback"] == true {
                    assert!(column["titles"][lang].is_null(), "{slug}: never translated");
                } else {
                    assert_eq!(column["titles"][lang], label["value"]);
                }
            }
        }
        if registry["geometry"] != "none" {
            assert_eq!(names[names.len() - 3..], ["lon", "lat", "wkt"]);
        }
        assert_eq!(meta["dc:type"].is_object(), registry["sample"] == true);
    }
});

both_backends!(catalog_and_metadata_errors_are_problems, |app| {
    app.get("/api/v1/registries/no-such-registry/items.csv-metadata.json")
        .await
        .problem(404);
    let p = app.get("/api/v1/catalog.ttl?lang=uk").await.problem(400);
    assert_eq!(p["parameter"], "lang");
    app.get("/api/v1/catalog.jsonld?x=1").await.problem(400);
    app.get("/api/v1/registries/housing-stock/items.csv-metadata.json?x=1")
        .await
        .problem(400);
});

both_backends!(absolute_urls_follow_the_proxy_headers, |app| {
    let proxy = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "data.example.org"),
    ];
    let (jsonld, graph) = catalog_graphs(&app, &proxy).await;
    let (_, base) = catalog_and_base(&graph);
    assert_eq!(base, "https://data.example.org");
    let (_, base) = catalog_and_base(&jsonld);
    assert_eq!(base, "https://data.example.org");
    for distribution in of_type(&graph, &dcat("Distribution")) {
        for url in iri_objects(&graph, &distribution, &dcat("accessURL")) {
            assert!(url.starts_with("https://data.example.org/api/v1/"), "{url}");
        }
    }
    let meta = app
        .get_with(
            "/api/v1/registries/territorial-units/items.csv-metadata.json",
            &proxy,
        )
        .await
        .json();
    assert_eq!(
        meta["url"],
        "https://data.example.org/api/v1/registries/territorial-units/items.csv"
    );
});

const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
const SPDX: &str = "http://spdx.org/rdf/terms#";

/// What DCAT-AP 3's range shapes require of the objects of these properties (range.ttl), checked
/// here without the SHACL validator so the rule holds wherever the tests run.
const RANGES: &[(&str, &str)] = &[
    (
        "http://purl.org/dc/terms/publisher",
        "http://xmlns.com/foaf/0.1/Agent",
    ),
    (
        "http://www.w3.org/ns/dcat#contactPoint",
        "http://www.w3.org/2006/vcard/ns#Kind",
    ),
    (
        "http://www.w3.org/ns/dcat#mediaType",
        "http://purl.org/dc/terms/MediaType",
    ),
    (
        "http://purl.org/dc/terms/format",
        "http://purl.org/dc/terms/MediaTypeOrExtent",
    ),
    (
        "http://purl.org/dc/terms/language",
        "http://purl.org/dc/terms/LinguisticSystem",
    ),
    (
        "http://purl.org/dc/terms/conformsTo",
        "http://purl.org/dc/terms/Standard",
    ),
    (
        "http://www.w3.org/ns/dcat#theme",
        "http://www.w3.org/2004/02/skos/core#Concept",
    ),
    (
        "http://purl.org/dc/terms/type",
        "http://www.w3.org/2004/02/skos/core#Concept",
    ),
    (
        "http://purl.org/dc/terms/license",
        "http://purl.org/dc/terms/LicenseDocument",
    ),
    (
        "http://purl.org/dc/terms/spatial",
        "http://purl.org/dc/terms/Location",
    ),
    (
        "http://purl.org/dc/terms/accrualPeriodicity",
        "http://purl.org/dc/terms/Frequency",
    ),
    (
        "http://www.w3.org/ns/dcat#themeTaxonomy",
        "http://www.w3.org/2004/02/skos/core#ConceptScheme",
    ),
    (
        "http://xmlns.com/foaf/0.1/homepage",
        "http://xmlns.com/foaf/0.1/Document",
    ),
    (
        "http://xmlns.com/foaf/0.1/page",
        "http://xmlns.com/foaf/0.1/Document",
    ),
    (
        "http://www.w3.org/ns/dcat#hasVersion",
        "http://www.w3.org/ns/dcat#Dataset",
    ),
    (
        "http://www.w3.org/ns/dcat#distribution",
        "http://www.w3.org/ns/dcat#Distribution",
    ),
    (
        "http://www.w3.org/ns/dcat#accessService",
        "http://www.w3.org/ns/dcat#DataService",
    ),
    (
        "http://spdx.org/rdf/terms#checksum",
        "http://spdx.org/rdf/terms#Checksum",
    ),
];

fn subject_of(term: &Term) -> Option<NamedOrBlankNode> {
    match term {
        Term::NamedNode(n) => Some(n.clone().into()),
        Term::BlankNode(b) => Some(b.clone().into()),
        Term::Literal(_) => None,
    }
}

/// The full-passport registry, imported `times` times with different rows (one release each).
fn publish_registry_releases(app: &TestApp, times: usize) {
    use opengov_api::models::registries::{self, import};
    let mut conn = app.pool().get().unwrap();
    let registry = registries::find_schema(&mut conn, "catalog-test")
        .unwrap()
        .unwrap();
    for round in 0..times {
        let rows = format!(
            "code,area_m2,kind,open,since,checked_at,rooms,lon,lat\n\
             x1,{round}.5,a.1,true,2020-01-02,2024-05-06T07:08:09Z,3,27.0,49.4\n\
             x2,,b,,,,,,\n"
        );
        import::import(
            &mut conn,
            &registry,
            import::FileFormat::Csv,
            rows.as_bytes(),
            "test",
            import::Publish::Always,
        )
        .unwrap();
    }
}

/// Sets a milestone's status in the live tables and publishes a plan release.
fn publish_plan_release(app: &TestApp, status: &str) {
    use diesel::prelude::*;
    use opengov_api::db::schema::milestones;
    use opengov_api::models::plan_release;
    let mut conn = app.pool().get().unwrap();
    let id: String = milestones::table
        .select(milestones::id)
        .order(milestones::id)
        .first(&mut conn)
        .unwrap();
    conn.write_transaction(|conn| {
        diesel::update(milestones::table.find(&id))
            .set(milestones::status.eq(Some(status)))
            .execute(conn)?;
        plan_release::publish(conn, "test")
    })
    .unwrap();
}

both_backends!(every_reference_has_the_class_dcat_ap_expects, |app| {
    define_full_passport(&app);
    publish_registry_releases(&app, 2);
    let (jsonld, graph) = catalog_graphs(&app, &[]).await;
    assert_eq!(without_blank_nodes(&jsonld), without_blank_nodes(&graph));
    for (predicate, class) in RANGES {
        let class = iri(class);
        let mut seen = 0;
        for triple in graph.triples_for_predicate(&iri(predicate)) {
            let object = triple.object.into_owned();
            let subject = subject_of(&object).unwrap_or_else(|| panic!("{predicate} {object}"));
            assert!(
                graph.contains(oxrdf::TripleRef::new(&subject, rdf::TYPE, &class)),
                "{object} (object of {predicate}) is a {class}"
            );
            seen += 1;
        }
        assert!(seen > 0, "the test data uses {predicate}");
    }
    // Category and category scheme shapes: concepts have a label, schemes a title.
    for concept in of_type(&graph, &iri(&format!("{SKOS}Concept"))) {
        assert!(
            !objects(&graph, &concept, &iri(&format!("{SKOS}prefLabel"))).is_empty(),
            "{concept} has a skos:prefLabel"
        );
    }
    for scheme in of_type(&graph, &iri(&format!("{SKOS}ConceptScheme"))) {
        assert!(!objects(&graph, &scheme, &dct("title")).is_empty());
    }
    // The passport's values reach their vocabularies: the licence type from its SPDX id, the
    // publisher's type from its institution kind.
    let (_, base) = catalog_and_base(&graph);
    let dataset = node(&format!("{base}/api/v1/registries/catalog-test"));
    assert_eq!(
        iri_objects(
            &graph,
            &node("https://creativecommons.org/licenses/by/4.0/"),
            &dct("type")
        ),
        vec!["http://purl.org/adms/licencetype/Attribution".to_owned()],
        "CC BY 4.0 asks for attribution"
    );
    let publisher = iri_objects(&graph, &dataset, &dct("publisher")).remove(0);
    assert_eq!(
        iri_objects(&graph, &node(&publisher), &dct("type")),
        vec!["http://purl.org/adms/publishertype/LocalAuthority".to_owned()],
        "an executive body of the city council is the local authority"
    );
});

both_backends!(releases_are_versions_with_pinned_checksummed_files, |app| {
    use sha2::{Digest, Sha256};
    define_full_passport(&app);
    publish_registry_releases(&app, 7);
    publish_plan_release(&app, "complete");
    let (jsonld, graph) = catalog_graphs(&app, &[]).await;
    assert_eq!(
        without_blank_nodes(&jsonld),
        without_blank_nodes(&graph),
        "both serialisations carry the same triples"
    );
    let (_, base) = catalog_and_base(&graph);
    let api = format!("{base}/api/v1");
    let service = node(&format!("{api}/catalog#service"));
    let served = iri_objects(&graph, &service, &dcat("servesDataset"));
    let path = |url: &str| url.strip_prefix(&base).unwrap().to_owned();
    let mut checksummed = 0;

    for (dataset, list) in [
        (
            format!("{api}/registries/catalog-test"),
            format!("{api}/registries/catalog-test/releases"),
        ),
        (format!("{api}/plans"), format!("{api}/plan/releases")),
    ] {
        let dataset = node(&dataset);
        // The release list is the dataset's page; the catalog describes the newest five.
        assert_eq!(
            iri_objects(&graph, &dataset, &iri(&format!("{FOAF}page"))),
            vec![list.clone()]
        );
        let all = app.get(&path(&list)).await.json();
        let total = all["total"].as_u64().unwrap() as usize;
        let mut expected: Vec<String> = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .take(5)
            .map(|r| format!("{base}{}", r["links"]["self"].as_str().unwrap()))
            .collect();
        expected.sort();
        let mut versions = iri_objects(&graph, &dataset, &dcat("hasVersion"));
        versions.sort();
        assert_eq!(
            versions, expected,
            "{dataset}: the newest releases, at most five"
        );
        assert_eq!(versions.len(), total.min(5));

        for version in &versions {
            let release = app.get(&path(version)).await.json();
            let n = release["number"].as_i64().unwrap();
            let v = node(version);
            assert!(served.contains(version), "the API serves {version}");
            assert_eq!(
                objects(&graph, &v, &dcat("version")),
                vec![Term::from(Literal::new_simple_literal(n.to_string()))]
            );
            assert_eq!(
                objects(&graph, &v, &dct("issued")),
                vec![Term::from(Literal::new_typed_literal(
                    release["created_at"].as_str().unwrap(),
                    xsd::DATE_TIME
                ))]
            );
            let previous = iri_objects(&graph, &v, &dcat("previousVersion"));
            if n > 1 {
                let (list, _) = version.rsplit_once('/').unwrap();
                let expected = format!("{list}/{}", n - 1);
                assert_eq!(previous, vec![expected.clone()]);
                assert_eq!(app.get(&path(&expected)).await.status, 200, "{expected}");
            } else {
                assert!(previous.is_empty());
            }
            // A version is published by whoever publishes the dataset, in its languages and places.
            for shared in ["publisher", "language", "spatial"] {
                assert_eq!(
                    iri_objects(&graph, &v, &dct(shared)),
                    iri_objects(&graph, &dataset, &dct(shared)),
                    "{version} {shared}"
                );
            }
            let named = format!("(release {n})");
            assert!(
                objects(&graph, &v, &dct("title"))
                    .iter()
                    .any(|t| matches!(t, Term::Literal(l) if l.value().ends_with(&named))),
                "{version} has a title naming the release"
            );

            // Every file is pinned: it answers in its media type, issued with the release.
            let distributions = iri_objects(&graph, &v, &dcat("distribution"));
            assert!(!distributions.is_empty());
            for distribution in distributions {
                let d = node(&distribution);
                let url = iri_objects(&graph, &d, &dcat("downloadURL")).remove(0);
                assert!(
                    url.contains(&format!("release={n}"))
                        || url.ends_with(&format!("/releases/{n}/records")),
                    "{url} is pinned"
                );
                assert_eq!(
                    objects(&graph, &d, &dct("issued")),
                    objects(&graph, &v, &dct("issued"))
                );
                let res = app.get(&path(&url)).await;
                assert_eq!(res.status, 200, "{url}");
                if let Some(media_type) = iri_objects(&graph, &d, &dcat("mediaType")).first() {
                    let expected = media_type.rsplit_once("media-types/").unwrap().1;
                    assert!(
                        res.header("content-type").unwrap().starts_with(expected),
                        "{url}"
                    );
                }
                // The canonical export: its SHA-256 and size are those of the bytes served.
                let checksums = objects(&graph, &d, &iri(&format!("{SPDX}checksum")));
                if checksums.is_empty() {
                    assert!(objects(&graph, &d, &dcat("byteSize")).is_empty());
                    continue;
                }
                assert!(
                    res.header("content-type")
                        .unwrap()
                        .starts_with("application/x-ndjson")
                );
                let checksum = subject_of(&checksums[0]).unwrap();
                assert_eq!(
                    iri_objects(&graph, &checksum, &iri(&format!("{SPDX}algorithm"))),
                    vec![format!("{SPDX}checksumAlgorithm_sha256")]
                );
                let digest: String = Sha256::digest(&res.body)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                assert_eq!(
                    objects(&graph, &checksum, &iri(&format!("{SPDX}checksumValue"))),
                    vec![Term::from(Literal::new_typed_literal(
                        digest.clone(),
                        xsd::HEX_BINARY
                    ))],
                    "{url}: the stated SHA-256 is that of the bytes"
                );
                assert_eq!(release["sha256"], digest.as_str(), "and the release's own");
                assert_eq!(
                    objects(&graph, &d, &dcat("byteSize")),
                    vec![Term::from(Literal::new_typed_literal(
                        res.body.len().to_string(),
                        xsd::NON_NEGATIVE_INTEGER
                    ))],
                    "{url}: the stated size is that of the bytes"
                );
                assert_eq!(release["byte_size"], res.body.len());
                checksummed += 1;
            }
        }
    }
    // Five registry releases and both plan releases have a checksummed canonical export.
    assert_eq!(checksummed, 5 + 2);
});

/// The official DCAT-AP 3.0.1 shapes (tests/vendor/dcat-ap-3/README.md), joined into one Turtle
/// document: Turtle allows a prefix to be declared again, and each file names its shapes in its
/// own namespace, so the join is the union of the four graphs.
const DCAT_AP_SHAPES: &[&str] = &[
    include_str!("../vendor/dcat-ap-3/shapes.ttl"),
    include_str!("../vendor/dcat-ap-3/range.ttl"),
    include_str!("../vendor/dcat-ap-3/shapes_recommended.ttl"),
    include_str!("../vendor/dcat-ap-3/deprecateduris.ttl"),
];

const SH: &str = "http://www.w3.org/ns/shacl#";

/// One result of a pyshacl validation report.
#[derive(Debug)]
struct ShaclResult {
    severity: String,
    focus: Term,
    path: String,
    message: String,
}

/// What pyshacl says of one catalog document.
struct ShaclReport {
    conforms: bool,
    results: Vec<ShaclResult>,
}

/// Prefixed names for the report lines.
fn short(iri: &str) -> String {
    for (prefix, ns) in [
        ("dcat:", DCAT),
        ("dct:", DCT),
        ("foaf:", FOAF),
        ("vcard:", VCARD),
        ("dcatap:", "http://data.europa.eu/r5r/"),
        ("sh:", SH),
    ] {
        if let Some(local) = iri.strip_prefix(ns) {
            return format!("{prefix}{local}");
        }
    }
    iri.to_owned()
}

/// Runs pyshacl on `document` (`turtle` or `json-ld`) against the DCAT-AP shapes: no inference
/// and no ontology graph (see the vendor README: the catalog must type what it references
/// itself), `--allow-warnings` so that only violations make it non-conforming, the report as
/// Turtle.
fn pyshacl(tool: &std::path::Path, document: &[u8], syntax: &str) -> ShaclReport {
    let dir = tempfile::tempdir().unwrap();
    let shapes = dir.path().join("dcat-ap-3.0.1.ttl");
    std::fs::write(&shapes, DCAT_AP_SHAPES.join("\n")).unwrap();
    let data = dir.path().join("catalog");
    std::fs::write(&data, document).unwrap();
    let out = std::process::Command::new(tool)
        .args([
            "--shacl-file-format",
            "turtle",
            "--data-file-format",
            syntax,
        ])
        .args([
            "--inference",
            "none",
            "--allow-warnings",
            "--format",
            "turtle",
        ])
        .arg("--shacl")
        .arg(&shapes)
        .arg(&data)
        .output()
        .expect("pyshacl runs");
    // 0: conforms, 1: does not; anything else is pyshacl failing to validate.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "pyshacl failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report = parse_turtle(&out.stdout);
    let sh = |local: &str| iri(&format!("{SH}{local}"));
    let reports = of_type(&report, &sh("ValidationReport"));
    assert_eq!(reports.len(), 1, "one validation report");
    let conforms = objects(&report, &reports[0], &sh("conforms"))
        == vec![Term::from(Literal::new_typed_literal("true", xsd::BOOLEAN))];
    assert_eq!(conforms, out.status.code() == Some(0));
    let one = |node: &NamedOrBlankNode, property: &str| -> Option<Term> {
        objects(&report, node, &sh(property)).into_iter().next()
    };
    let results = of_type(&report, &sh("ValidationResult"))
        .iter()
        .map(|r| ShaclResult {
            severity: match one(r, "resultSeverity") {
                Some(Term::NamedNode(n)) => short(n.as_str()),
                other => panic!("severity {other:?}"),
            },
            focus: one(r, "focusNode").expect("a focus node"),
            path: match one(r, "resultPath") {
                Some(Term::NamedNode(n)) => short(n.as_str()),
                Some(other) => other.to_string(),
                None => String::new(),
            },
            message: match one(r, "resultMessage") {
                Some(Term::Literal(l)) => l.value().to_owned(),
                _ => String::new(),
            },
        })
        .collect();
    ShaclReport { conforms, results }
}

/// Writes past the test harness's capture, so that `cargo test` (and `.ci/run`'s log) shows the
/// validator's verdict even when the test passes.
fn announce(line: &str) {
    use std::io::Write;
    // One write, so the line cannot interleave with the harness's own lines.
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// Why a recommended property may be missing: it is unknown (no source gives it) or a promise only
/// the operator can make. `Err` for any other missing property (docs/API.md lists these).
fn unstated(
    result: &ShaclResult,
    catalog: &Graph,
    api: &str,
    contact_configured: bool,
) -> Result<(), String> {
    let focus = match &result.focus {
        Term::NamedNode(n) => n.as_str().to_owned(),
        // Blank nodes: the KATOTTG locations, whose extent no source gives.
        Term::BlankNode(_) if matches!(result.path.as_str(), "dcat:bbox" | "dcat:centroid") => {
            return Ok(());
        }
        other => return Err(format!("{other}")),
    };
    let types = iri_objects(catalog, &node(&focus), &rdf::TYPE.into_owned());
    let is = |class: &str| types.contains(&format!("{DCAT}{class}"));
    let plan_file = focus.starts_with(&format!("{api}/plans#"))
        || focus.starts_with(&format!("{api}/plan/releases/"));
    let ok = match result.path.as_str() {
        // The catalog's own dates and licence: no source states them.
        "dct:issued" | "dct:modified" => focus == format!("{api}/catalog"),
        // The licence of the catalog, and of the plan data (no source gives one).
        "dct:license" => focus == format!("{api}/catalog") || (is("Distribution") && plan_file),
        // No source gives any dataset's temporal coverage.
        "dct:temporal" => is("Dataset"),
        // Only without an operator contact (`--operator-email` / `--operator-url`).
        "dcat:contactPoint" => !contact_configured && (is("Dataset") || is("DataService")),
        // How long a file stays available is the operator's promise, not the data's.
        "dcatap:availability" => is("Distribution"),
        // NDJSON has no EU file type.
        "dct:format" => {
            is("Distribution")
                && iri_objects(catalog, &node(&focus), &dcat("accessURL"))
                    .iter()
                    .any(|url| url.contains(".ndjson") || url.ends_with("/records"))
        }
        // The operator's ADMS publisher type is not configured.
        "dct:type" => focus == format!("{api}/catalog#operator"),
        _ => false,
    };
    if ok { Ok(()) } else { Err(focus) }
}

/// Validates both serialisations of the catalog with pyshacl: no violation, and every warning a
/// recommended property the catalog leaves out on purpose. Prints the verdicts.
async fn validate_with_shacl(
    app: &TestApp,
    tool: &std::path::Path,
    what: &str,
    contact_configured: bool,
) {
    let (_, graph) = catalog_graphs(app, &[]).await;
    let (_, base) = catalog_and_base(&graph);
    let api = format!("{base}/api/v1");
    let backend = format!("{:?}", app.state.backend).to_lowercase();
    for (path, syntax) in [
        ("/api/v1/catalog.ttl", "turtle"),
        ("/api/v1/catalog.jsonld", "json-ld"),
    ] {
        let body = app.get(path).await.body;
        let report = pyshacl(tool, &body, syntax);
        let violations: Vec<&ShaclResult> = report
            .results
            .iter()
            .filter(|r| r.severity == "sh:Violation")
            .collect();
        assert!(
            violations.is_empty(),
            "{path}: DCAT-AP violations: {violations:#?}"
        );
        assert!(
            report.conforms,
            "{path}: pyshacl says the catalog does not conform"
        );
        let mut warnings = std::collections::BTreeMap::<String, usize>::new();
        for result in &report.results {
            assert_eq!(result.severity, "sh:Warning", "{result:?}");
            if let Err(focus) = unstated(result, &graph, &api, contact_configured) {
                panic!(
                    "{path}: unexpected warning on {focus}: {} ({})",
                    result.path, result.message
                );
            }
            *warnings.entry(result.path.clone()).or_default() += 1;
        }
        let listed: Vec<String> = warnings.iter().map(|(p, n)| format!("{n} {p}")).collect();
        announce(&format!(
            "DCAT-AP 3.0.1 SHACL (pyshacl), {backend}, {what}, {}: Conforms: {}; results {}: \
             0 violations, {} warnings of recommended properties left unstated ({})",
            path.rsplit('/').next().unwrap(),
            if report.conforms { "True" } else { "False" },
            report.results.len(),
            report.results.len(),
            listed.join(", ")
        ));
    }
}

both_backends!(dcat_ap_shacl_fixtures, |app| {
    let Some(tool) = crate::tools::python_tool("pyshacl") else {
        return;
    };
    validate_with_shacl(
        &app,
        &tool,
        "built-in fixtures, no operator configured",
        false,
    )
    .await;
});

both_backends!(dcat_ap_shacl_full_passport_releases_and_operator, |app| {
    let Some(tool) = crate::tools::python_tool("pyshacl") else {
        return;
    };
    let mut app = app;
    app.state.operator = opengov_api::models::catalog::Operator::new(
        Some("Open data desk of the test city".into()),
        Some("https://opendata.example.org/".into()),
        Some("opendata@example.org".into()),
    )
    .unwrap();
    define_full_passport(&app);
    publish_registry_releases(&app, 7);
    publish_plan_release(&app, "complete");
    let (_, graph) = catalog_graphs(&app, &[]).await;
    let (catalog, base) = catalog_and_base(&graph);
    // The configured operator: named, with a home page and a contact point for the datasets
    // whose data names none.
    let operator = format!("{base}/api/v1/catalog#operator");
    assert_eq!(
        iri_objects(&graph, &catalog, &dct("publisher")),
        vec![operator.clone()]
    );
    assert_eq!(
        objects(&graph, &node(&operator), &iri(&format!("{FOAF}name"))),
        vec![Term::from(Literal::new_simple_literal(
            "Open data desk of the test city"
        ))]
    );
    let contact = format!("{base}/api/v1/catalog#contact");
    assert_eq!(
        iri_objects(&graph, &node(&contact), &iri(&format!("{VCARD}hasEmail"))),
        vec!["mailto:opendata@example.org".to_owned()]
    );
    assert_eq!(
        iri_objects(
            &graph,
            &node(&format!("{base}/api/v1/plans")),
            &dcat("contactPoint")
        ),
        vec![contact.clone()]
    );
    // The registry that names its own contact keeps it.
    assert!(
        !iri_objects(
            &graph,
            &node(&format!("{base}/api/v1/registries/catalog-test")),
            &dcat("contactPoint")
        )
        .contains(&contact)
    );
    validate_with_shacl(
        &app,
        &tool,
        "full passport, 7 imports, operator configured",
        true,
    )
    .await;
});
