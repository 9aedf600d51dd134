//! `/api/v1/registries/{slug}/items.csv-metadata.json`: W3C CSVW table metadata describing a
//! registry's `items.csv` (dialect, columns in export order, datatypes, constraints, labels). The
//! name follows the CSVW convention `{csv url}-metadata.json`, so CSVW tools find it unaided.

use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::api::openapi::written_schema;
use crate::app::AppState;
use crate::error::AppError;
use crate::formats::csvw;
use crate::models::{institutions, registries};

/// No parameters; unknown ones are refused.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CsvMetadataParams {}

written_schema!(
    /// W3C CSVW table metadata (`models::csvw::table_metadata`).
    CsvwTable,
    [],
    serde_json::json!({
        "type": "object",
        "description": "W3C CSVW table metadata (JSON-LD with the CSVW context) of a CSV file.",
        "required": ["@context", "url", "dialect", "tableSchema"],
        "properties": {
            "@context": {"type": ["string", "array"]},
            "url": {"type": "string", "description": "The CSV file described."},
            "dialect": {"type": "object", "description": "How the file is written."},
            "tableSchema": {
                "type": "object",
                "required": ["columns"],
                "properties": {
                    "columns": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "titles": {
                                    "type": "object",
                                    "description": "The column's label by language.",
                                },
                                "datatype": {"type": ["string", "object"]},
                                "required": {"type": "boolean"},
                            },
                        },
                    },
                    "primaryKey": {"type": "string"},
                    "aboutUrl": {"type": "string"},
                },
            },
        },
    })
);

/// CSVW metadata of a registry's items CSV.
///
/// Describes the default `items.csv` export: UTF-8, comma, CRLF, one header row; the columns in
/// the order the export writes them (the schema fields, then `lon`, `lat`, `wkt` for registries
/// with geometry), each with its datatype, `required`, labels in every language (`titles`),
/// description, unit (`schema:unitText`) and allowed values (a `format` pattern); the id field is
/// the `primaryKey`.
#[utoipa::path(
    tag = "registries",
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        CsvMetadataParams,
    ),
    responses(
        (status = 200, description = "CSVW table metadata (JSON-LD with the CSVW context)",
            body = CsvwTable, content_type = "application/csvm+json"),
    )
)]
#[get("/registries/{slug}/items.csv-metadata.json")]
pub async fn get_items_csv_metadata(
    req: HttpRequest,
    path: web::Path<String>,
    _params: web::Query<CsvMetadataParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let api = format!("{}/api/v1", crate::http::public_base(&req));
    let slug = path.into_inner();
    let document = state
        .read(move |conn| -> Result<_, AppError> {
            let registry = registries::find(conn, &slug)?
                .ok_or_else(|| AppError::NotFound(format!("no registry {slug:?}")))?;
            let publisher = match &registry.row.publisher_id {
                Some(id) => institutions::find(conn, id, false)?,
                None => None,
            };
            Ok(csvw::table_metadata(&registry, publisher.as_ref(), &api))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/csvm+json")
        .body(document.to_string()))
}
