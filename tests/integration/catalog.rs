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
    let datasets = of_type(&graph, &dcat("Dataset"));
    assert_eq!(
        datasets.len(),
        registries.len() + 1,
        "a dataset per registry and the plan"
    );
    let listed = iri_objects(&graph, &catalog, &dcat("dataset"));
    assert_eq!(listed.len(), datasets.len());

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
    assert_eq!(served.len(), datasets.len());

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
            None => assert!(objects(&graph, &dataset, &dct("publisher")).is_empty()),
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
        for schema in iri_objects(&graph, distribution, &dct("conformsTo")) {
            assert_eq!(app.get(&path(&schema)).await.status, 200, "{schema}");
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
