//! `/api/v1/catalog.jsonld` and `/api/v1/catalog.ttl`: the DCAT-AP 3 catalog of every dataset
//! this service publishes (the action plan and each registry), for open-data portals to harvest.

use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::api::openapi::written_schema;
use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::formats::rdf;
use crate::models::catalog;

written_schema!(
    /// The catalog as a JSON-LD document (its graph's nodes, not every triple, are described).
    JsonLdDocument,
    [],
    serde_json::json!({
        "type": "object",
        "description": "A JSON-LD 1.1 document: the `@context` with the vocabularies' prefixes, \
            and the catalog's nodes in `@graph`.",
        "required": ["@context", "@graph"],
        "properties": {
            "@context": {
                "type": ["object", "string", "array"],
                "description": "Prefixes and terms (JSON-LD context).",
            },
            "@graph": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "A node object: its `@id` and its properties by IRI, each a \
                        list of values (`@value` with `@language` or `@type`) or references \
                        (`@id`).",
                    "properties": {"@id": {"type": "string"}},
                },
            },
        },
    })
);

/// The catalog takes no parameters; unknown ones are refused like everywhere else.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogParams {}

/// Which serialisation of the catalog graph to send.
#[derive(Debug, Clone, Copy)]
enum Syntax {
    JsonLd,
    Turtle,
}

async fn catalog(
    req: HttpRequest,
    state: web::Data<AppState>,
    syntax: Syntax,
) -> Result<HttpResponse, AppError> {
    let base = crate::http::public_base(&req);
    let operator = state.operator.clone();
    let body = state
        .read(move |conn| -> Result<_, AppError> {
            let data = catalog::load(conn)?;
            let graph = catalog::build(&data, &base, &operator)
                .map_err(|e| AppError::invalid("Host", e.to_string()))?;
            match syntax {
                Syntax::JsonLd => rdf::to_json_ld(&graph),
                Syntax::Turtle => rdf::to_turtle(&graph),
            }
            .map_err(|e| AppError::Internal(format!("catalog serialisation: {e}")))
        })
        .await?;
    let media_type = match syntax {
        Syntax::JsonLd => "application/ld+json",
        Syntax::Turtle => "text/turtle; charset=utf-8",
    };
    Ok(HttpResponse::Ok().content_type(media_type).body(body))
}

/// The DCAT-AP 3 catalog as JSON-LD.
///
/// A `dcat:Catalog` with one `dcat:Dataset` per registry and one for the action plan (`plan`),
/// their distributions (JSON pages, and complete CSV, GeoJSON for registries with geometry, and
/// NDJSON files), and the API as a `dcat:DataService`. Each dataset's newest releases (at most 5;
/// its `foaf:page` lists them all) are versions (`dcat:hasVersion`, `dcat:version`,
/// `dcat:previousVersion`, `dct:issued`) with their files pinned by `?release=`; the canonical
/// export of each carries its SHA-256 (`spdx:checksum`) and size (`dcat:byteSize`). The catalog's
/// publisher, and that of every dataset whose data names none, is the operator of this instance
/// (`--operator-name`). Texts carry every language they exist in; values the data does not give
/// are left out. Absolute IRIs use the request's scheme and host (`Forwarded`/`X-Forwarded-*`
/// behind a proxy). Node objects use full IRIs; the `@context` declares the dcat, dct, foaf,
/// vcard, skos, spdx, rdf, rdfs and xsd prefixes. It passes the DCAT-AP 3.0.1 SHACL shapes.
#[utoipa::path(
    tag = "catalog",
    params(CatalogParams),
    responses(
        (status = 200, description = "The catalog", body = JsonLdDocument, content_type = "application/ld+json"),
        (status = 400, description = "An unknown query parameter, or a `Host` that makes no IRI",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/catalog.jsonld")]
pub async fn catalog_jsonld(
    req: HttpRequest,
    _params: web::Query<CatalogParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    catalog(req, state, Syntax::JsonLd).await
}

/// The DCAT-AP 3 catalog as Turtle.
///
/// The same triples as `catalog.jsonld`.
#[utoipa::path(
    tag = "catalog",
    params(CatalogParams),
    responses(
        (status = 200, description = "The catalog", body = String, content_type = "text/turtle"),
        (status = 400, description = "An unknown query parameter, or a `Host` that makes no IRI",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/catalog.ttl")]
pub async fn catalog_ttl(
    req: HttpRequest,
    _params: web::Query<CatalogParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    catalog(req, state, Syntax::Turtle).await
}
