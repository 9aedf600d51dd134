//! The HTTP layer: routes, content negotiation, the OpenAPI document. Handlers stay thin: parse
//! parameters, run a model query in `run`, convert to wire types.

pub mod csv;
pub mod dto;
pub mod items;
pub mod negotiate;
pub mod pagination;
pub mod params;
pub mod release;
pub mod respond;
pub mod v1;

use actix_web::body::MessageBody;
use actix_web::dev::Service;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Compress, ErrorHandlers, Logger};
use actix_web::{App, HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::{self as oa, RefOr};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::db::{Backend, DbConn, DbPool};
use crate::error::{self, AppError, PROBLEM_JSON, Problem};

/// Shared state of every worker.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub backend: Backend,
}

/// Runs a blocking database function on actix's thread pool with a pooled connection.
pub async fn run<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<T> + Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || -> Result<T, AppError> {
        let mut conn = pool.get()?;
        Ok(f(&mut conn)?)
    })
    .await?
}

/// Like [`run`], for functions that can fail with any API error (not found, bad parameter).
pub async fn run_app<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || -> Result<T, AppError> {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "opengov-api",
        description = "Open data of an Open Government Partnership (OGP) Local action plan — the plan, \
its commitments, milestones, institutions and sources — first for Khmelnytskyi, Ukraine (2021–2025).\n\n\
* Every collection is JSON or CSV: a `.csv` path, `?format=csv`, or `Accept: text/csv`.\n\
* Pages: `limit` (1–1000, default 100) and an opaque `cursor`; the next page is in `next_cursor` and \
in a `Link: rel=\"next\"` header.\n\
* Languages: `?lang=uk|en|es` or `Accept-Language`. Each text is `{value, lang, fallback}` so a \
fallback to another language is visible; `Content-Language` lists the languages served.\n\
* Unknown is `null`: nothing is guessed. Every record lists its `sources`.\n\
* Unknown query parameters are refused with 400. Every error is RFC 9457 `application/problem+json`.",
        license(name = "Apache-2.0"),
    ),
    tags(
        (name = "index", description = "Entry point"),
        (name = "plans", description = "OGP action plans, their member and co-creation facts"),
        (name = "commitments", description = "Commitments of a plan, with OGP values and progress rollups"),
        (name = "milestones", description = "Milestones of commitments: status and due dates"),
        (name = "institutions", description = "Lead institutions and other stakeholders"),
        (name = "sources", description = "Where every fact comes from"),
        (name = "registries", description = "Geoportal registries (datasets): passport, schema and items as JSON, CSV, GeoJSON, NDJSON"),
        (name = "catalog", description = "DCAT-AP 3 catalog of every dataset (JSON-LD, Turtle), for open-data portals"),
        (name = "operations", description = "Health and readiness"),
    ),
    // Types named only by query parameters are not collected automatically.
    components(schemas(Problem, params::FormatName, v1::milestones::StatusFilterName)),
)]
struct ApiDoc;

/// Adds the error responses every operation can give, so each path lists them once.
fn add_problem_responses(api: &mut oa::OpenApi) {
    let problem = |description: &str| -> RefOr<oa::Response> {
        RefOr::T(
            oa::ResponseBuilder::new()
                .description(description)
                .content(
                    PROBLEM_JSON,
                    oa::ContentBuilder::new()
                        .schema(Some(oa::Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        )
    };
    for item in api.paths.paths.values_mut() {
        let Some(op) = item.get.as_mut() else {
            continue;
        };
        let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
        let responses = &mut op.responses.responses;
        if has_params {
            responses.entry("400".into()).or_insert_with(|| {
                problem("A query parameter is unknown, malformed or out of range (the problem names it)")
            });
        }
        responses
            .entry("404".into())
            .or_insert_with(|| problem("No such record or route"));
        responses
            .entry("406".into())
            .or_insert_with(|| problem("No representation matches `Accept`"));
        responses
            .entry("500".into())
            .or_insert_with(|| problem("A bug; logged, answered without internals"));
        responses.entry("503".into()).or_insert_with(|| {
            problem("The database cannot be reached; retry after `Retry-After` seconds")
        });
    }
}

/// The OpenAPI document, built from the same route registrations the server uses.
pub fn openapi() -> oa::OpenApi {
    let (_, api) = routes(App::new().into_utoipa_app()).split_for_parts();
    finish(api)
}

fn finish(mut api: oa::OpenApi) -> oa::OpenApi {
    add_problem_responses(&mut api);
    api
}

fn routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api/v1").configure(v1::configure))
        .service(v1::health::healthz)
        .service(v1::health::readyz)
}

/// The whole application: routes, docs, error bodies, compression and access log. Used by the
/// server, the tests and the `openapi` command alike.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // The docs are registered before the /api/v1 scope, which would otherwise claim
    // /api/v1/openapi.json; the document comes from the same `routes` as the app below.
    let app = App::new()
        .app_data(web::Data::new(state))
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", openapi()))
        .into_utoipa_app();
    let (app, _) = routes(app).split_for_parts();
    app.route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("Location", "/docs/"))
                .finish()
        }),
    )
    .default_service(web::to(error::not_found))
    .wrap(ErrorHandlers::new().default_handler(error::problem_json_errors))
    .wrap_fn(|mut req, srv| {
        // HEAD is GET without a body: route it as GET; the HTTP layer, which parsed the request
        // as HEAD, leaves the body out.
        if req.method() == Method::HEAD {
            req.head_mut().method = Method::GET;
        }
        srv.call(req)
    })
    .wrap(Compress::default())
    .wrap(Logger::new(r#"%a "%r" %s %b %Dms "%{User-Agent}i""#))
}
