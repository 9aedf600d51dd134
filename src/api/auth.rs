//! Bearer tokens: who is writing, and may they. Reads need no token; every write names the scope
//! it needs. The token itself is never logged or echoed (the access log has no headers).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::api::{AppState, run_primary};
use crate::error::AppError;
use crate::models::tokens::{self, Actor, Scope};

/// A request with a valid bearer token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

impl Authenticated {
    /// 403 unless the token holds `scope` (or one that covers it).
    pub fn require(&self, scope: Scope) -> Result<&Actor, AppError> {
        if self.0.may(&scope) {
            Ok(&self.0)
        } else {
            Err(AppError::Forbidden(format!(
                "the token {} lacks the scope `{scope}` this operation needs",
                self.0.token_id
            )))
        }
    }
}

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

impl FromRequest for Authenticated {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| AppError::Internal("no application state".into()))?;
            // On the primary, so a revoked token stops working at once, whatever a replica lags.
            let actor =
                run_primary(&state, move |conn| Ok(tokens::authenticate(conn, &token)?)).await?;
            actor
                .map(Authenticated)
                .ok_or_else(|| AppError::Unauthorized {
                    detail: "the bearer token is unknown or revoked".into(),
                    error: Some("invalid_token"),
                })
        })
    }
}
