//! Protection: rate limits with RateLimit headers and 429 problems, size limits with 413/414/400
//! problems naming the limit, security headers on the HTML docs.
//!
//! Rate limits, the query-length check and the HTML headers are middleware that decide before
//! any database work and keep their state in memory, so those tests run on SQLite only; the
//! filter count is checked against a registry's schema read from the database, so that test
//! runs on both backends.

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::middleware::ErrorHandlers;
use actix_web::test::{self as atest, TestRequest};
use actix_web::{App, HttpResponse, web};
use base64::Engine;
use opengov_api::error;
use opengov_api::middleware::limits::{self, Limits};
use opengov_api::middleware::rate_limit::{ClientIpSource, RateLimitConfig, RateLimits};
use opengov_api::middleware::security_headers::LOGO_STYLE;
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::common::{Response, TestApp};

fn limited(per_ip: u32, per_token: u32, client_ip: ClientIpSource) -> TestApp {
    let mut app = TestApp::sqlite(true);
    app.state.rate_limits = RateLimits::new(&RateLimitConfig {
        per_ip_per_minute: per_ip,
        per_token_per_minute: per_token,
        client_ip,
    })
    .map(Arc::new);
    app
}

async fn get_from(app: &TestApp, peer: &str, uri: &str, headers: &[(&str, &str)]) -> Response {
    let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
    let mut req = TestRequest::get().uri(uri).peer_addr(peer);
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    app.call(req).await
}

both_backends!(rate_limits_are_off_unless_turned_on, |app| {
    for _ in 0..30 {
        let res = app.get("/api/v1/plans").await;
        assert_eq!(res.status.as_u16(), 200);
        assert!(res.header("ratelimit").is_none());
        assert!(res.header("ratelimit-policy").is_none());
    }
});

#[actix_web::test]
async fn the_ip_quota_is_stated_then_spent_with_a_429_problem() {
    let app = limited(3, 0, ClientIpSource::Peer);
    let uri = "/api/v1/commitments?limit=1";
    for remaining in [2, 1, 0] {
        let res = get_from(&app, "203.0.113.5", uri, &[]).await;
        assert_eq!(res.status.as_u16(), 200);
        assert_eq!(res.header("ratelimit-policy"), Some(r#""per-ip";q=3;w=60"#));
        // GCRA refills one request every 20 s: t is when the whole quota is back.
        let reset = 20 * (3 - remaining);
        assert_eq!(
            res.header("ratelimit"),
            Some(format!(r#""per-ip";r={remaining};t={reset}"#).as_str())
        );
    }
    let res = get_from(&app, "203.0.113.5", uri, &[]).await;
    let problem = res.problem(429);
    assert_eq!(problem["type"], "tag:opengov-api,2026:problem/rate-limited");
    assert_eq!(problem["instance"], uri);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("per-ip") && detail.contains("3 requests per 60 s"),
        "{detail}"
    );
    let retry_after: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert!(
        res.header("ratelimit")
            .unwrap()
            .starts_with(r#""per-ip";r=0;t="#)
    );
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));

    // Another client is not affected; health checks are never limited.
    let other = get_from(&app, "198.51.100.9", uri, &[]).await;
    assert_eq!(other.status.as_u16(), 200);
    for probe in ["/healthz", "/readyz"] {
        let res = get_from(&app, "203.0.113.5", probe, &[]).await;
        assert_eq!(res.status.as_u16(), 200, "{probe}");
        assert!(res.header("ratelimit").is_none(), "{probe}");
    }
    // Browsers on other origins may read the limit headers.
    let res = get_from(&app, "192.0.2.44", uri, &[("Origin", "https://x.example")]).await;
    let exposed = res
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in ["ratelimit", "ratelimit-policy", "retry-after"] {
        assert!(
            exposed.split(", ").any(|h| h == name),
            "{name} in {exposed}"
        );
    }
}

#[actix_web::test]
async fn a_token_has_its_own_bucket_and_invented_tokens_do_not_escape_the_ip_limit() {
    let app = limited(10, 2, ClientIpSource::Peer);
    let uri = "/api/v1/plans";
    let ip = "203.0.113.20";
    let bearer = |t: &str| format!("Bearer {t}");
    let a = bearer("token-a");
    for remaining in [1, 0] {
        let res = get_from(&app, ip, uri, &[("Authorization", &a)]).await;
        assert_eq!(res.status.as_u16(), 200);
        assert_eq!(
            res.header("ratelimit-policy"),
            Some(r#""per-ip";q=10;w=60, "per-token";q=2;w=60"#)
        );
        let state = res.header("ratelimit").unwrap();
        assert!(
            state.contains(&format!(r#""per-token";r={remaining};"#)),
            "{state}"
        );
    }
    let spent = get_from(&app, ip, uri, &[("Authorization", &a)]).await;
    let detail = spent.problem(429)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("per-token"), "{detail}");

    // Another token from the same address, and no token, still pass.
    let b = bearer("token-b");
    assert_eq!(
        get_from(&app, ip, uri, &[("Authorization", &b)])
            .await
            .status
            .as_u16(),
        200
    );
    let plain = get_from(&app, ip, uri, &[]).await;
    assert_eq!(plain.status.as_u16(), 200);
    assert_eq!(
        plain.header("ratelimit-policy"),
        Some(r#""per-ip";q=10;w=60"#)
    );

    // 5 of the IP's 10 are used; fresh invented tokens get the other 5 and no more.
    for n in 0..5 {
        let fake = bearer(&format!("made-up-{n}"));
        let res = get_from(&app, ip, uri, &[("Authorization", &fake)]).await;
        assert_eq!(res.status.as_u16(), 200, "request {n}");
    }
    let fake = bearer("made-up-last");
    let refused = get_from(&app, ip, uri, &[("Authorization", &fake)]).await;
    let detail = refused.problem(429)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("per-ip"), "{detail}");
}

#[actix_web::test]
async fn forwarded_addresses_count_only_when_trusted_and_only_the_proxys_entry() {
    let uri = "/api/v1";
    // Default: the peer is the client; X-Forwarded-For is anyone's to write.
    let app = limited(1, 0, ClientIpSource::Peer);
    let proxy = "10.0.0.2";
    let xff = |v: &'static str| [("X-Forwarded-For", v)];
    assert_eq!(
        get_from(&app, proxy, uri, &xff("203.0.113.1"))
            .await
            .status
            .as_u16(),
        200
    );
    assert_eq!(
        get_from(&app, proxy, uri, &xff("203.0.113.2"))
            .await
            .status
            .as_u16(),
        429
    );

    // Trusted: the last entry (the one the proxy appended) is the client, whatever precedes it.
    let app = limited(1, 0, ClientIpSource::XForwardedFor);
    assert_eq!(
        get_from(&app, proxy, uri, &xff("1.1.1.1, 203.0.113.1"))
            .await
            .status
            .as_u16(),
        200
    );
    assert_eq!(
        get_from(&app, proxy, uri, &xff("9.9.9.9, 203.0.113.1"))
            .await
            .status
            .as_u16(),
        429,
        "a spoofed first entry does not make a new client"
    );
    assert_eq!(
        get_from(&app, proxy, uri, &xff("203.0.113.2"))
            .await
            .status
            .as_u16(),
        200
    );

    let app = limited(1, 0, ClientIpSource::Forwarded);
    let fwd = |v: &'static str| [("Forwarded", v)];
    assert_eq!(
        get_from(
            &app,
            proxy,
            uri,
            &fwd(r#"for=192.0.2.60;proto=https, for="[2001:db8::7]:443""#)
        )
        .await
        .status
        .as_u16(),
        200
    );
    assert_eq!(
        get_from(&app, proxy, uri, &fwd("for=2001:db8::99"))
            .await
            .status
            .as_u16(),
        429,
        "the same IPv6 /64 shares a bucket"
    );
}

#[actix_web::test]
async fn an_overlong_query_string_is_414_naming_the_limit() {
    let app = TestApp::sqlite(true);
    let at_limit = format!("/api/v1/commitments?x={}", "a".repeat(4096 - 2));
    let res = app.get(&at_limit).await;
    assert_eq!(res.status.as_u16(), 400, "at the limit the query is parsed");
    assert_eq!(res.json()["parameter"], "x");

    let over = format!("{at_limit}a");
    let res = app.get(&over).await;
    let problem = res.problem(414);
    assert_eq!(
        problem["type"],
        "tag:opengov-api,2026:problem/query-too-long"
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("4097 bytes") && detail.contains("limit is 4096"),
        "{detail}"
    );
}

both_backends!(item_filters_are_limited_to_twenty, |app| {
    let fields = [
        "katottg",
        "category",
        "name_uk",
        "level1_oblast",
        "level2_raion",
        "level3_hromada",
        "koatuu_legacy",
    ];
    let mut filters: Vec<String> = Vec::new();
    for op in ["ne=zz", "isnull=false", "in=a,b"] {
        filters.extend(fields.iter().map(|f| format!("{f}__{op}")));
    }
    let uri = |n: usize| {
        format!(
            "/api/v1/registries/territorial-units/items?{}",
            filters[..n].join("&")
        )
    };
    let res = app.get(&uri(20)).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
    let res = app.get(&uri(21)).await;
    let problem = res.problem(400);
    assert_eq!(problem["parameter"], "koatuu_legacy__in");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("at most 20 field filters"), "{detail}");
    // `limit` stays range-checked, never clamped.
    let res = app
        .get("/api/v1/registries/territorial-units/items?limit=1001")
        .await;
    assert_eq!(res.problem(400)["parameter"], "limit");
});

/// The write API reads bodies through these extractors; served here with the very same
/// configuration `build_app` installs (the read-only app has no route that reads a body).
#[actix_web::test]
async fn a_body_over_the_limit_is_413_naming_the_limit() {
    let mut app = TestApp::sqlite(false);
    let small = Limits {
        max_body_bytes: 16,
        ..Limits::default()
    };
    app.state.limits = small;
    let service = atest::init_service(
        App::new()
            .app_data(web::Data::new(app.state.clone()))
            .configure(limits::configure_bodies(small))
            .route(
                "/json",
                web::post().to(|body: web::Json<serde_json::Value>| async move {
                    HttpResponse::Ok().json(body.into_inner())
                }),
            )
            .route(
                "/raw",
                web::post().to(|body: web::Bytes| async move { HttpResponse::Ok().body(body) }),
            )
            .wrap(ErrorHandlers::new().default_handler(error::problem_json_errors)),
    )
    .await;
    let send = |path: &'static str, body: &'static str| {
        TestRequest::post()
            .uri(path)
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body)
            .to_request()
    };
    let ok = atest::call_service(&service, send("/json", r#"{"a":1}"#)).await;
    assert_eq!(ok.status().as_u16(), 200);
    for path in ["/json", "/raw"] {
        let res = atest::call_service(&service, send(path, r#"{"a":"0123456789abcdef"}"#)).await;
        let status = res.status();
        let content_type = res.headers().get("content-type").cloned();
        let body: serde_json::Value = atest::read_body_json(res).await;
        assert_eq!(status.as_u16(), 413, "{path}: {body}");
        assert_eq!(content_type.unwrap(), "application/problem+json");
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("limit of 16 bytes") || detail.contains("limit is 16 bytes"),
            "{path}: {detail}"
        );
        assert_eq!(body["instance"], path);
    }
}

both_backends!(the_docs_page_gets_a_strict_offline_csp, |app| {
    let res = app.get("/docs/").await;
    assert_eq!(res.status.as_u16(), 200);
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    let csp = res.header("content-security-policy").unwrap();
    for directive in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(res.header("x-frame-options"), Some("DENY"));
    assert_eq!(res.header("referrer-policy"), Some("no-referrer"));
    // Every script is a file from here (which `script-src 'self'` allows); none is inline.
    let html = res.text();
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty());
    for script in scripts {
        let tag = script.split('>').next().unwrap();
        assert!(tag.contains("src=\"./"), "a local file: <script{tag}>");
    }
    // The configuration is a script file too; it names no outside validator.
    let init = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(init.status.as_u16(), 200);
    let init = init.text();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    assert!(init.contains(r#""validatorUrl": "none""#), "{init}");
    // The one inline style (the logo's) is allowed by its hash, and is still in the bundle.
    let preset = app
        .get("/docs/swagger-ui-standalone-preset.js")
        .await
        .text();
    assert!(
        preset.contains(&format!("\"{LOGO_STYLE}\"")),
        "the vendored logo style changed"
    );
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(LOGO_STYLE));
    assert!(
        csp.contains(&format!("style-src 'self' 'sha256-{hash}'")),
        "{csp}"
    );
    // JSON answers carry no HTML policy.
    let api = app.get("/api/v1").await;
    assert!(api.header("content-security-policy").is_none());
});
