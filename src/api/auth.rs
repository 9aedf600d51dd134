//! Bearer tokens: who is writing, and may they. Reads need no token; every route that does names
//! its gate in its route attribute (`wrap = "from_fn(auth::plan_writer)"`, …). The gate runs after
//! routing and before any extractor, so an unauthenticated or unauthorised caller is answered 401
//! or 403 before its body is read or parsed, whatever the body. The token itself is never logged
//! or echoed (the access log has no headers).

use std::future::{Ready, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::app::AppState;
use crate::error::{self, AppError};
use crate::models::tokens::{self, Actor, Scope};

/// A request a gate admitted: the token's owner, already checked for the route's scope.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::Unauthorized {
            detail: "no Authorization header; send `Authorization: Bearer <token>`".into(),
            error: None,
        })?;
    let value = value.to_str().map_err(|_| AppError::Unauthorized {
        detail: "the Authorization header is not ASCII".into(),
        error: Some("invalid_request"),
    })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(AppError::Unauthorized {
            detail: "the Authorization header is not `Bearer <token>`".into(),
            error: Some("invalid_request"),
        }),
    }
}

/// The actor of a valid token that holds `scope` (or one covering it): 401, else 403.
async fn admit(req: &HttpRequest, scope: Scope) -> Result<Actor, AppError> {
    let token = bearer(req)?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal("no application state".into()))?;
    // On the primary, so a revoked token stops working at once, whatever a replica lags.
    let actor = state
        .on_primary(move |conn| tokens::authenticate(conn, &token))
        .await?
        .ok_or_else(|| AppError::Unauthorized {
            detail: "the bearer token is unknown or revoked".into(),
            error: Some("invalid_token"),
        })?;
    if actor.may(&scope) {
        Ok(actor)
    } else {
        Err(AppError::Forbidden(format!(
            "the token {} lacks the scope `{scope}` this operation needs",
            actor.token_id
        )))
    }
}

/// Lets the request through to its handler (extractors included) only when `scope` is held.
async fn gate<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
    scope: Result<Scope, AppError>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let admitted = match scope {
        Ok(scope) => admit(req.request(), scope).await,
        Err(e) => Err(e),
    };
    match admitted {
        Ok(actor) => {
            req.extensions_mut().insert(Authenticated(actor));
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(e) => {
            let response = error::problem_response(&e, req.request());
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// Gate of the plan's writes: scope `plan:write`.
pub async fn plan_writer<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    gate(req, next, Ok(Scope::PlanWrite)).await
}

/// Gate of a registry's uploads: scope `registry:<slug>:publish` for the route's `{slug}` (or one
/// covering it).
pub async fn registry_publisher<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let scope = req
        .match_info()
        .get("slug")
        .map(|slug| Scope::PublishRegistry(slug.to_owned()))
        .ok_or_else(|| {
            AppError::Internal("registry_publisher gate on a route without {slug}".into())
        });
    gate(req, next, scope).await
}

/// Gate of the administrators' reads: scope `admin`.
pub async fn admin<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    gate(req, next, Ok(Scope::Admin)).await
}

/// The actor a gate admitted. A route that takes `Authenticated` without a gate is a bug, answered
/// 500 rather than let through.
impl FromRequest for Authenticated {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Authenticated>()
                .cloned()
                .ok_or_else(|| {
                    AppError::Internal(format!(
                        "{} {} takes Authenticated but has no auth gate",
                        req.method(),
                        req.match_pattern().unwrap_or_default()
                    ))
                }),
        )
    }
}
