//! RDF documents of the DCAT catalog: the graph `models::catalog::build` makes, as Turtle or
//! JSON-LD, its triples in a fixed order so the same data always gives the same bytes.

use oxjsonld::JsonLdSerializer;
use oxrdf::{Graph, Triple};
use oxttl::TurtleSerializer;

use crate::models::catalog::PREFIXES;

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
