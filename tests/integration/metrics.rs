//! `/metrics`: requests by route pattern and status, latency histograms, pool and gate gauges,
//! upload counts and durations — read back by parsing the OpenMetrics text.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use opengov_api::app::DbGate;
use opengov_api::models::tokens::{self, Scope};

use crate::both_backends;
use crate::common::{Response, TestApp};

/// One sample: metric name, labels, value.
#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The samples of an OpenMetrics text exposition (label values unescaped); panics on a line
/// that is not a comment or a sample, and on a missing `# EOF`.
pub fn parse(text: &str) -> Vec<Sample> {
    assert!(text.ends_with("# EOF\n"), "no # EOF at the end:\n{text}");
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name_end = line.find(['{', ' ']).expect("a sample line");
        let name = line[..name_end].to_owned();
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices();
            let mut key = String::new();
            loop {
                let (i, c) = chars.next().expect("unterminated label set");
                match c {
                    '}' => {
                        rest = &inner[i + 1..];
                        break;
                    }
                    ',' => {}
                    '=' => {
                        assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                        let mut value = String::new();
                        loop {
                            match chars.next().expect("unterminated value").1 {
                                '"' => break,
                                '\\' => match chars.next().expect("escape").1 {
                                    'n' => value.push('\n'),
                                    other => value.push(other),
                                },
                                other => value.push(other),
                            }
                        }
                        labels.insert(std::mem::take(&mut key), value);
                    }
                    other => key.push(other),
                }
            }
        }
        let value = rest.trim().split(' ').next().expect("a value");
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|e| panic!("value {v:?} of {line:?}: {e}")),
        };
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    samples
}

/// The value of the one sample named `name` with exactly these labels (None if absent).
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let found: Vec<f64> = samples
        .iter()
        .filter(|s| s.name == name && s.labels == wanted)
        .map(|s| s.value)
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} appears twice");
    found.first().copied()
}

pub async fn scrape(app: &TestApp) -> Vec<Sample> {
    let res = app.get("/metrics").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    parse(&res.text())
}

const ITEMS: &str = "/api/v1/registries/{slug}/items";

both_backends!(requests_are_counted_by_route_pattern_and_status, |app| {
    assert_eq!(
        app.get("/api/v1/registries/territorial-units/items?limit=2")
            .await
            .status,
        200
    );
    assert_eq!(
        app.get("/api/v1/registries/housing-stock/items?limit=1")
            .await
            .status,
        200
    );
    app.get("/api/v1/registries/territorial-units/items?limit=0")
        .await
        .problem(400);
    app.get("/no/such/path").await.problem(404);
    let first = app.get("/api/v1/milestones").await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    let again = app
        .get_with("/api/v1/milestones", &[("If-None-Match", &etag)])
        .await;
    assert_eq!(again.status, 304);
    let head = app
        .call(
            TestRequest::default()
                .method(Method::HEAD)
                .uri("/api/v1/milestones"),
        )
        .await;
    assert_eq!(head.status, 200);

    let samples = scrape(&app).await;
    let requests = |method: &str, route: &str, status: &str| {
        value(
            &samples,
            "http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    // Two registries, one series: the pattern, never the slug.
    assert_eq!(requests("GET", ITEMS, "200"), Some(2.0));
    assert_eq!(requests("GET", ITEMS, "400"), Some(1.0));
    assert_eq!(requests("GET", "unmatched", "404"), Some(1.0));
    assert_eq!(requests("GET", "/api/v1/milestones", "200"), Some(1.0));
    assert_eq!(requests("GET", "/api/v1/milestones", "304"), Some(1.0));
    assert_eq!(requests("HEAD", "/api/v1/milestones", "200"), Some(1.0));
    assert!(
        samples.iter().all(|s| s
            .labels
            .get("route")
            .is_none_or(|r| !r.contains("territorial-units") && !r.contains("/no/such"))),
        "a raw path became a label"
    );

    // The histogram of the items route: cumulative buckets from 1 ms to 10 s and +Inf, each
    // request in `+Inf` and in `_count` (the 400 too: it is timed like any answer).
    let route = [("method", "GET"), ("route", ITEMS)];
    let mut buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| {
            s.name == "http_request_duration_seconds_bucket"
                && s.labels.get("route").map(String::as_str) == Some(ITEMS)
                && s.labels.get("method").map(String::as_str) == Some("GET")
        })
        .map(|s| {
            let le = &s.labels["le"];
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            (le, s.value)
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(buckets.first().map(|b| b.0), Some(0.001));
    assert_eq!(buckets[buckets.len() - 2].0, 10.0);
    assert_eq!(buckets.last(), Some(&(f64::INFINITY, 3.0)));
    assert!(
        buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "buckets are cumulative: {buckets:?}"
    );
    assert_eq!(
        value(&samples, "http_request_duration_seconds_count", &route),
        Some(3.0)
    );
    let sum = value(&samples, "http_request_duration_seconds_sum", &route).unwrap();
    assert!(sum > 0.0 && sum < 30.0, "{sum}");

    // The pool as it is now: idle connections, none in use, every turn free.
    let pool = [("pool", "primary")];
    let max = f64::from(app.pool().max_size());
    assert_eq!(value(&samples, "db_pool_max_connections", &pool), Some(max));
    let idle = value(
        &samples,
        "db_pool_connections",
        &[("pool", "primary"), ("state", "idle")],
    )
    .unwrap();
    assert!(idle >= 1.0 && idle <= max, "{idle}");
    assert_eq!(
        value(
            &samples,
            "db_pool_connections",
            &[("pool", "primary"), ("state", "in_use")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(&samples, "db_gate_permits_available", &pool),
        Some(max)
    );
    assert_eq!(value(&samples, "db_gate_waiting", &pool), Some(0.0));
    assert_eq!(
        value(&samples, "db_gate_at_capacity_total", &pool),
        Some(0.0)
    );
    assert!(
        samples
            .iter()
            .all(|s| s.labels.get("pool").is_none_or(|p| p == "primary")),
        "no read pool without --read-database-url"
    );
});

both_backends!(
    the_gate_shows_waiting_requests_and_at_capacity_refusals,
    |app| {
        let mut app = app;
        app.state.db_gate = DbGate::new(1, Duration::from_millis(300));
        let gate = app.state.db_gate.clone();
        let held = gate.try_enter().expect("the only turn");

        // A request queues behind the held turn; the scrape (no database) sees it waiting, then the
        // turn is given back and the request is served.
        let queued = app.get("/api/v1/plans");
        let observe = async {
            while gate.waiting() == 0 {
                actix_web::rt::task::yield_now().await;
            }
            let samples = scrape(&app).await;
            drop(held);
            samples
        };
        let (served, samples) = futures_util::future::join(queued, observe).await;
        assert_eq!(served.status, 200, "{}", served.text());
        let pool = [("pool", "primary")];
        assert_eq!(value(&samples, "db_gate_waiting", &pool), Some(1.0));
        assert_eq!(
            value(&samples, "db_gate_permits_available", &pool),
            Some(0.0)
        );

        // No turn within the wait: 503 at capacity, counted.
        let held = gate.try_enter().expect("the turn is free again");
        app.get("/api/v1/plans").await.problem(503);
        drop(held);
        let samples = scrape(&app).await;
        assert_eq!(
            value(&samples, "db_gate_at_capacity_total", &pool),
            Some(1.0)
        );
        assert_eq!(value(&samples, "db_gate_waiting", &pool), Some(0.0));
        assert_eq!(
            value(
                &samples,
                "http_requests_total",
                &[
                    ("method", "GET"),
                    ("route", "/api/v1/plans"),
                    ("status", "503")
                ]
            ),
            Some(1.0)
        );
    }
);

async fn upload(app: &TestApp, token: &str, body: &str) -> Response {
    app.call(
        TestRequest::default()
            .method(Method::POST)
            .uri("/api/v1/registries/territorial-units/imports")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Content-Type", "text/csv"))
            .set_payload(body.to_owned()),
    )
    .await
}

both_backends!(uploads_are_counted_by_outcome_and_timed, |app| {
    let publisher = {
        let mut conn = app.pool().get().unwrap();
        tokens::create(
            &mut conn,
            "metrics test",
            &[Scope::PublishRegistry("territorial-units".into())],
        )
        .unwrap()
        .1
    };
    let edited = include_str!("../../fixtures/registries/territorial-units/items.csv").replacen(
        "Хмельницька",
        "Хмельницька область",
        1,
    );
    assert_eq!(upload(&app, &publisher, &edited).await.status, 201);
    upload(&app, &publisher, "katottg\n1\n").await.problem(422);

    let samples = scrape(&app).await;
    let registry = ("registry", "territorial-units");
    let imports = |outcome| value(&samples, "imports_total", &[registry, ("outcome", outcome)]);
    assert_eq!(imports("published"), Some(1.0));
    assert_eq!(imports("rejected"), Some(1.0));
    assert_eq!(imports("failed"), None);
    assert_eq!(
        value(&samples, "import_duration_seconds_count", &[registry]),
        Some(2.0)
    );
    let sum = value(&samples, "import_duration_seconds_sum", &[registry]).unwrap();
    assert!(sum > 0.0, "{sum}");
    assert_eq!(
        value(
            &samples,
            "import_duration_seconds_bucket",
            &[registry, ("le", "+Inf")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &samples,
            "http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/v1/registries/{slug}/imports"),
                ("status", "201")
            ]
        ),
        Some(1.0)
    );
});

both_backends!(metrics_turned_off_are_not_served, |app| {
    let mut app = app;
    app.state.metrics = None;
    assert_eq!(app.get("/api/v1").await.status, 200);
    app.get("/metrics").await.problem(404);
});
