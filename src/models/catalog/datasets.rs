//! The datasets of the catalog: the action plan and each registry, their distributions and
//! their newest releases as versions.

use std::collections::BTreeMap;

use oxrdf::vocab::{rdf, rdfs};
use oxrdf::{BlankNode, Literal, NamedNode};

use super::vocabulary::{SYNTHETIC_DATA, frequency_iri, licence_type, publisher_type, term};
use super::{
    Builder, CatalogData, CatalogGraph, Distribution, DistributionFormat, Node, PLAN_COLLECTIONS,
    PLAN_KEYWORDS, RegistryEntry, Version, named, partial_date_literal, release_literal,
};
use crate::models::institutions::Institution;
use crate::models::registries::geometry::GeometryKind;
use crate::models::releases;
use crate::models::vocab::{InstitutionKind, UpdateFrequency, parse_stored};

/// The action plan: every plan collection, JSON pages and complete CSV files; its releases
/// with the canonical export and the CSV files pinned to each.
pub(super) fn plan(g: &mut CatalogGraph, catalog: &Node, data: &CatalogData) {
    let plan = named(g.url("/plans"));
    g.list_dataset(catalog, &plan);
    g.b.add(
        &plan,
        term::IDENTIFIER,
        Literal::new_simple_literal(releases::PLAN),
    );
    for p in &data.plans {
        g.b.add_texts(&plan, term::TITLE, &p.texts, "title");
        g.b.add_texts(&plan, term::DESCRIPTION, &p.texts, "description");
        if let Some(katottg) = p.member.as_ref().and_then(|m| m.row.katottg.as_deref()) {
            add_spatial(&mut g.b, &plan, katottg);
        }
    }
    for word in PLAN_KEYWORDS {
        g.b.add_english(&plan, term::KEYWORD, word);
    }
    // The plan data is compiled and served by this instance: its operator publishes it.
    g.operator_as(&plan, true, true);
    if let Some(release) = data.plan_releases.latest() {
        g.b.add(&plan, term::MODIFIED, release_literal(release));
    }
    for collection in PLAN_COLLECTIONS {
        for format in [DistributionFormat::Json, DistributionFormat::Csv] {
            let file = Distribution {
                iri: g.url(&format!("/plans#{collection}-{}", format.name())),
                url: g.url(&format!("/{collection}{}", format.suffix())),
                format,
                title: format!("{collection}: {}", format.title()),
                description: living_description(format),
                license: None,
                pinned: None,
                canonical_of: None,
            };
            g.distribution(&plan, file);
        }
    }
    let versions = data
        .plan_releases
        .newest
        .iter()
        .map(|release| {
            let n = release.number;
            let mut files = vec![Distribution {
                iri: g.url(&format!("/plan/releases/{n}#records")),
                url: g.url(&format!("/plan/releases/{n}/records")),
                format: DistributionFormat::NdJson,
                title: format!("Every plan record at release {n}: canonical NDJSON"),
                description: format!(
                    "Every record of plan release {n}, one JSON object per line in (type, id) \
                     order; the SHA-256 and size given are of these bytes, which never change."
                ),
                license: None,
                pinned: Some(release),
                canonical_of: Some(release),
            }];
            for collection in PLAN_COLLECTIONS {
                files.push(Distribution {
                    iri: g.url(&format!("/plan/releases/{n}#{collection}-csv")),
                    url: g.url(&format!("/{collection}.csv?release={n}")),
                    format: DistributionFormat::Csv,
                    title: format!(
                        "{collection} at release {n}: {}",
                        DistributionFormat::Csv.title()
                    ),
                    description: pinned_description(n),
                    license: None,
                    pinned: Some(release),
                    canonical_of: None,
                });
            }
            Version {
                iri: g.url(&format!("/plan/releases/{n}")),
                identifier: releases::PLAN,
                release,
                files,
            }
        })
        .collect();
    g.versions(&plan, "/plan/releases", versions);
}

fn living_description(format: DistributionFormat) -> String {
    if format.is_complete_file() {
        "Every record of the newest release in one file; it changes with each new release (the \
         files of one release are the distributions of that version)."
            .to_owned()
    } else {
        "Pages of the newest release as JSON (limit up to 1000, cursor for the next page)."
            .to_owned()
    }
}

fn pinned_description(n: i64) -> String {
    format!("Every record exactly as published in release {n}; the file never changes.")
}

pub(super) fn registry(
    g: &mut CatalogGraph,
    catalog: &Node,
    entry: &RegistryEntry,
    publishers: &BTreeMap<String, Institution>,
) {
    let r = &entry.registry;
    let slug = r.slug();
    let dataset = named(g.url(&format!("/registries/{slug}")));
    g.list_dataset(catalog, &dataset);
    let b = &mut g.b;
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
        b.add_concept(&dataset, term::TYPE, SYNTHETIC_DATA);
        b.add_texts(&dataset, rdfs::COMMENT, &r.texts, "sample_note");
    }
    if let Some(frequency) = parse_stored::<UpdateFrequency>(r.row.update_frequency.as_deref()) {
        b.add_typed(
            &dataset,
            term::ACCRUAL_PERIODICITY,
            &frequency_iri(frequency),
            term::FREQUENCY,
        );
    }
    if let Some(issued) = r.row.issued.as_deref().and_then(partial_date_literal) {
        b.add(&dataset, term::ISSUED, issued);
    }
    // The latest release is when this service last changed the items; without one, the
    // passport's own date.
    let modified = match entry.releases.latest() {
        Some(release) => Some(release_literal(release)),
        None => r.row.modified.as_deref().and_then(partial_date_literal),
    };
    if let Some(modified) = modified {
        b.add(&dataset, term::MODIFIED, modified);
    }
    for code in r.row.languages.split(',') {
        b.add_language(&dataset, code);
    }
    if let Some(katottg) = &r.row.spatial {
        add_spatial(b, &dataset, katottg);
    }
    if let Some(commitment) = &r.row.related_commitment_id {
        b.add_iri(
            &dataset,
            term::RELATION,
            &format!("{}/commitments/{commitment}", g.api),
        );
    }
    let institution = r
        .row
        .publisher_id
        .as_ref()
        .and_then(|id| publishers.get(id));
    let named_publisher = match institution {
        Some(institution) => {
            add_institution(b, &dataset, institution, &g.api);
            true
        }
        None => false,
    };
    let has_contact = r.row.contact_name.is_some() || r.row.contact_email.is_some();
    if has_contact {
        let contact = Node::from(BlankNode::new_unchecked(format!("contact-{slug}")));
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
            && let Some(node) = b.add_typed(&dataset, term::CONFORMS_TO, url, term::STANDARD)
        {
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
        .map(Node::from);
    if let Some(license) = &license {
        b.add(&dataset, term::LICENSE, license.clone());
        b.add(license, rdf::TYPE, term::LICENSE_DOCUMENT.into_owned());
        if let Some(spdx) = &r.row.license {
            b.add(license, term::IDENTIFIER, Literal::new_simple_literal(spdx));
            if let Some(kind) = licence_type(spdx) {
                b.add_concept(license, term::TYPE, kind);
            }
        }
    }
    g.operator_as(&dataset, !named_publisher, !has_contact);

    let mut formats = vec![DistributionFormat::Json, DistributionFormat::Csv];
    if r.geometry != GeometryKind::None {
        formats.push(DistributionFormat::GeoJson);
    }
    formats.push(DistributionFormat::NdJson);
    for &format in &formats {
        let items = format!("/registries/{slug}/items{}", format.suffix());
        let file = Distribution {
            iri: g.url(&format!("/registries/{slug}#{}", format.name())),
            url: g.url(&items),
            format,
            title: format!("Items: {}", format.title()),
            description: living_description(format),
            license: license.as_ref(),
            pinned: None,
            canonical_of: None,
        };
        let distribution = g.distribution(&dataset, file);
        if format == DistributionFormat::Csv {
            // The CSVW metadata describes the CSV's columns: the schema it conforms to.
            if let Some(schema) = g.b.add_typed(
                &distribution,
                term::CONFORMS_TO,
                &g.url(&format!("{items}-metadata.json")),
                term::STANDARD,
            ) {
                g.b.add_english(&schema, term::TITLE, "CSVW metadata of the items CSV");
            }
        }
    }

    // Releases: every complete file pinned to the release; the NDJSON is the canonical export.
    let versions = entry
        .releases
        .newest
        .iter()
        .map(|release| {
            let n = release.number;
            let files = formats
                .iter()
                .filter(|format| format.is_complete_file())
                .map(|&format| {
                    let canonical = format == DistributionFormat::NdJson;
                    Distribution {
                        iri: g.url(&format!(
                            "/registries/{slug}/releases/{n}#{}",
                            format.name()
                        )),
                        url: g.url(&format!(
                            "/registries/{slug}/items{}?release={n}",
                            format.suffix()
                        )),
                        format,
                        title: format!("Items at release {n}: {}", format.title()),
                        description: if canonical {
                            format!(
                                "{} It is the release's canonical export: the SHA-256 and size \
                                 given are of these bytes.",
                                pinned_description(n)
                            )
                        } else {
                            pinned_description(n)
                        },
                        license: license.as_ref(),
                        pinned: Some(release),
                        canonical_of: canonical.then_some(release),
                    }
                })
                .collect();
            Version {
                iri: g.url(&format!("/registries/{slug}/releases/{n}")),
                identifier: slug,
                release,
                files,
            }
        })
        .collect();
    g.versions(&dataset, &format!("/registries/{slug}/releases"), versions);
}

/// `dct:publisher`: an institution of the plan data, with its name and, where its kind decides
/// it, its ADMS publisher type.
fn add_institution(b: &mut Builder, dataset: &Node, institution: &Institution, api: &str) {
    let Ok(agent) = NamedNode::new(format!("{api}/institutions/{}", institution.row.id)) else {
        return;
    };
    let agent = Node::from(agent);
    b.add(dataset, term::PUBLISHER, agent.clone());
    b.add(&agent, rdf::TYPE, term::AGENT.into_owned());
    b.add_texts(&agent, term::NAME, &institution.texts, "name");
    if let Some(kind) = parse_stored::<InstitutionKind>(Some(&institution.row.kind))
        && let Some(kind) = publisher_type(kind)
    {
        b.add_concept(&agent, term::TYPE, kind);
    }
}

/// `dct:spatial` as a `dct:Location` identified by its KATOTTG code: the codifier publishes no
/// IRIs, so the code stays a literal.
fn add_spatial(b: &mut Builder, dataset: &Node, katottg: &str) {
    let Ok(location) = BlankNode::new(format!("katottg-{katottg}")) else {
        return;
    };
    let location = Node::from(location);
    b.add(dataset, term::SPATIAL, location.clone());
    b.add(&location, rdf::TYPE, term::LOCATION.into_owned());
    b.add(
        &location,
        term::IDENTIFIER,
        Literal::new_simple_literal(katottg),
    );
}
