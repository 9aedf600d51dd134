//! `/changes`: one ordered feed of every record created, updated or deleted by any release, for
//! clients that keep a copy in sync. A client that starts without `since` and applies every event
//! holds exactly the current data.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::pagination;
use crate::app::AppState;
use crate::db::DbConn;
use crate::error::AppError;
use crate::http::negotiate::{self, Format};
use crate::models::changes::{self, ChangeEvent};
use crate::models::registries;
use crate::models::releases::{self, PLAN};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// Where to continue: the `next_cursor` of the previous answer. Without it the feed starts
    /// at the beginning. A cursor older than the retained events answers 410 with a `restart`.
    pub since: Option<String>,
    /// Only events of one dataset: `plan` or `registries/<slug>`.
    #[param(example = "registries/territorial-units")]
    pub dataset: Option<String>,
    /// Events per answer, 1 to 1000 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// A page of the change feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesPage {
    pub events: Vec<ChangeEvent>,
    /// Pass as `since` next time: after the last event here (or the same position when there
    /// was none — poll again later).
    pub next_cursor: String,
    /// True when more events follow right away.
    pub more: bool,
    pub links: ChangesLinks,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesLinks {
    pub next: String,
}

/// Feed cursors: `{"v":1,"change":<id>}`, base64url.
#[derive(Serialize, Deserialize)]
struct FeedPosition {
    v: u8,
    change: i64,
}

pub fn encode_since(change: i64) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&FeedPosition { v: 1, change }).unwrap_or_default())
}

fn decode_since(raw: &str) -> Result<i64, AppError> {
    let bad = || {
        AppError::invalid(
            "since",
            "is not a change-feed cursor this API issued; use a `next_cursor`, or leave `since` \
             out to start from the beginning",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw.as_bytes()).map_err(|_| bad())?;
    let position: FeedPosition = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if position.v != 1 || position.change < 0 {
        return Err(bad());
    }
    Ok(position.change)
}

fn check_dataset(conn: &mut DbConn, dataset: &str) -> Result<(), AppError> {
    let known = dataset == PLAN
        || match releases::registry_of(dataset) {
            Some(slug) => registries::find_schema(conn, slug)?.is_some(),
            None => false,
        };
    if known {
        Ok(())
    } else {
        Err(AppError::invalid(
            "dataset",
            format!(
                "{dataset:?} is not a dataset: use plan or registries/<slug> (see /api/v1/registries)"
            ),
        ))
    }
}

/// What a client whose cursor is too old should do: load every dataset at its latest release,
/// then follow the feed from the head.
fn restart(conn: &mut DbConn) -> Result<serde_json::Value, AppError> {
    let head = releases::last_change(conn)?;
    let mut snapshots = Vec::new();
    let plan = releases::latest(conn, PLAN)?;
    if let Some(p) = plan {
        snapshots.push(serde_json::json!({"dataset": PLAN, "release": p.number,
            "href": format!("/api/v1/plan/releases/{}/records", p.number)}));
    }
    for registry in registries::list_all_slugs(conn)? {
        let dataset = releases::registry_dataset(&registry);
        if let Some(r) = releases::latest(conn, &dataset)? {
            snapshots.push(serde_json::json!({"dataset": dataset, "release": r.number,
                "href": format!("/api/v1/registries/{registry}/items.ndjson?release={}", r.number)}));
        }
    }
    Ok(serde_json::json!({
        "since": encode_since(head),
        "snapshots": snapshots,
    }))
}

/// Follow every change to the data.
///
/// One ordered stream of `created`, `updated` and `deleted` events across the plan and every
/// registry, each with the record as the release wrote it (`data`, null for deletions). Start
/// without `since`, apply every event in order (upsert by `dataset` + `record_type` +
/// `record_id`, delete on `deleted`), and keep `next_cursor` for the next poll. A malformed
/// cursor is a 400; one older than the retained events is a 410 whose `restart` member names the
/// snapshots to load and the cursor to follow from.
#[utoipa::path(
    tag = "releases",
    params(ChangesParams),
    responses(
        (status = 200, description = "Events after `since`, oldest first", body = ChangesPage,
            headers(("Link" = String, description = "`<url>; rel=\"next\"` with the next cursor"))),
        (status = 410, description = "The cursor's events were pruned; start again from `restart`",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/changes")]
pub async fn list_changes(
    req: HttpRequest,
    params: web::Query<ChangesParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    negotiate::from_accept(&req, &[Format::Json])?;
    let params = params.into_inner();
    let after = params
        .since
        .as_deref()
        .map(decode_since)
        .transpose()?
        .unwrap_or(0);
    let limit = pagination::limit(params.limit.as_deref())?;
    let dataset = params.dataset;
    let (events, head) = state
        .read(move |conn| -> Result<_, AppError> {
            if let Some(d) = &dataset {
                check_dataset(conn, d)?;
            }
            let pruned = releases::pruned_through(conn)?;
            if after < pruned {
                return Err(AppError::Gone {
                    detail: format!(
                        "since: events up to {pruned} were pruned and this cursor is at {after}; \
                     load the snapshots in `restart`, then follow the feed from `restart.since`"
                    ),
                    restart: restart(conn)?,
                });
            }
            // Read the head first: publishers are serialised, so every event up to it is committed
            // and the page below sees them all.
            let head = releases::last_change(conn)?;
            let events = changes::after(conn, after, dataset.as_deref(), i64::from(limit) + 1)?;
            Ok((events, head))
        })
        .await?;
    let more = events.len() > limit as usize;
    let mut events = events;
    events.truncate(limit as usize);
    // With a dataset filter an empty page may still have passed other datasets' events; the
    // next poll can then start from the head seen now.
    let last = match events.last() {
        Some(e) => e.id,
        None => head.max(after),
    };
    let next_cursor = encode_since(last);
    let next = next_link_since(&req, &next_cursor);
    Ok(HttpResponse::Ok()
        .insert_header((header::LINK, format!("<{next}>; rel=\"next\"")))
        .json(ChangesPage {
            events,
            next_cursor,
            more,
            links: ChangesLinks { next },
        }))
}

fn next_link_since(req: &HttpRequest, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs.retain(|(k, _)| k != "since");
    pairs.push(("since".into(), cursor.into()));
    format!(
        "{}?{}",
        req.path(),
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}
