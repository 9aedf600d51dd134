//! Every error is RFC 9457 problem+json naming what is at fault; bad input changes nothing.

use crate::both_backends;
use crate::common::TestApp;
use actix_web::test::TestRequest;
use opengov_api::app::AppState;
use opengov_api::db::{self, DatabaseUrl};

both_backends!(unknown_query_parameters_are_refused_by_name, |app| {
    for (path, param) in [
        (
            "/api/v1/commitments?ogp_valeu=civic_participation",
            "ogp_valeu",
        ),
        ("/api/v1/milestones?stauts=complete", "stauts"),
        ("/api/v1/plans?limt=5", "limt"),
        ("/api/v1/institutions?kind=cso&role=lead&x=1", "x"),
        ("/api/v1/commitments/khm-2021-2025-c1?format=csv", "format"),
        ("/api/v1/sources?q=geo", "q"),
    ] {
        let p = app.get(path).await.problem(400);
        assert_eq!(p["parameter"], param, "{path}: {p}");
        assert!(p["detail"].as_str().unwrap().contains(param), "{p}");
    }
});

both_backends!(repeated_parameters_are_refused, |app| {
    let p = app
        .get("/api/v1/commitments?plan=a&plan=b")
        .await
        .problem(400);
    assert_eq!(p["parameter"], "plan");
});

both_backends!(malformed_values_name_the_parameter, |app| {
    for (path, param) in [
        ("/api/v1/commitments?ogp_value=transparency", "ogp_value"),
        ("/api/v1/commitments?role=boss", "role"),
        ("/api/v1/milestones?status=done", "status"),
        ("/api/v1/milestones?due_from=2025-13", "due_from"),
        ("/api/v1/milestones?due_to=yesterday", "due_to"),
        (
            "/api/v1/milestones?due_from=2025-02&due_to=2025-01",
            "due_to",
        ),
        ("/api/v1/institutions?kind=ministry", "kind"),
        ("/api/v1/commitments?expand=everything", "expand"),
        ("/api/v1/commitments?lang=de", "lang"),
        ("/api/v1/commitments?format=xml", "format"),
        ("/api/v1/commitments?plan=", "plan"),
        ("/api/v1/commitments.csv?expand=milestones", "expand"),
        ("/api/v1/commitments.csv?format=json", "format"),
    ] {
        let p = app.get(path).await.problem(400);
        assert_eq!(p["parameter"], param, "{path}: {p}");
        assert_eq!(p["instance"], path);
    }
});

both_backends!(limits_are_enforced_not_clamped, |app| {
    for bad in ["0", "1001", "-1", "abc", "1e3", ""] {
        let p = app
            .get(&format!("/api/v1/institutions?limit={bad}"))
            .await
            .problem(400);
        assert_eq!(p["parameter"], "limit");
    }
    let max = app.get("/api/v1/institutions?limit=1000").await.json();
    assert_eq!(max["limit"], 1000);
});

both_backends!(unknown_routes_and_methods_are_problems, |app| {
    let p = app.get("/api/v1/nothing-here").await.problem(404);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("/api/v1/nothing-here")
    );
    app.get("/api/v2/commitments").await.problem(404);
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri("/api/v1/commitments");
        let res = app.call(req).await;
        assert_eq!(res.header("allow"), Some("GET, HEAD"));
        let p = res.problem(405);
        assert!(p["detail"].as_str().unwrap().contains(method), "{p}");
    }
});

both_backends!(not_acceptable_is_a_problem, |app| {
    let res = app
        .get_with("/api/v1/commitments", &[("Accept", "application/xml")])
        .await;
    let p = res.problem(406);
    assert!(p["detail"].as_str().unwrap().contains("text/csv"));
    let res = app
        .get_with(
            "/api/v1/commitments/khm-2021-2025-c1",
            &[("Accept", "text/csv")],
        )
        .await;
    res.problem(406);
});

both_backends!(hostile_values_are_data_and_change_nothing, |app| {
    let before = app.get("/api/v1/commitments?expand=milestones").await.body;
    // An SQL-injection string is just an id that matches nothing.
    let res = app
        .get("/api/v1/commitments?plan=x%27%3BDROP%20TABLE%20commitments%3B--")
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["total"], 0);
    let p = app
        .get("/api/v1/milestones?status=complete%27--")
        .await
        .problem(400);
    assert_eq!(p["parameter"], "status");
    app.get("/api/v1/commitments?limit=0").await.problem(400);
    assert_eq!(
        app.get("/api/v1/commitments?expand=milestones").await.body,
        before
    );
});

fn unreachable_state(url: &str) -> AppState {
    let parsed = DatabaseUrl::parse(url).unwrap();
    AppState::new(
        db::build_pool(&parsed, &crate::common::pool_options()),
        parsed.backend(),
    )
}

async fn assert_unavailable(state: AppState) {
    let app = actix_web::test::init_service(opengov_api::server::build_app(state)).await;
    for path in ["/api/v1/commitments", "/readyz"] {
        let res =
            actix_web::test::call_service(&app, TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status(), 503, "{path}");
        assert_eq!(res.headers().get("retry-after").unwrap(), "5", "{path}");
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/problem+json"
        );
    }
    let res =
        actix_web::test::call_service(&app, TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(
        res.status(),
        200,
        "liveness does not depend on the database"
    );
}

#[actix_web::test]
async fn unreachable_sqlite_is_503() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/missing-dir/db.sqlite", dir.path().display());
    assert_unavailable(unreachable_state(&url)).await;
}

#[actix_web::test]
async fn unreachable_postgres_is_503() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    assert_unavailable(unreachable_state("postgres://postgres@127.0.0.1:9/test")).await;
}

both_backends!(readiness_reports_backend_and_schema, |app| {
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200);
    let body = ready.json();
    assert_eq!(body["migrations_current"], true);
    let expected = match app.state.backend {
        opengov_api::db::Backend::Sqlite => "sqlite",
        opengov_api::db::Backend::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);
    assert_eq!(app.get("/healthz").await.json()["status"], "ok");
});

#[actix_web::test]
async fn readiness_fails_when_migrations_are_pending() {
    // An empty database: reachable, but not migrated.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/empty.db", dir.path().display());
    let app =
        actix_web::test::init_service(opengov_api::server::build_app(unreachable_state(&url)))
            .await;
    let res =
        actix_web::test::call_service(&app, TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = actix_web::test::read_body_json(res).await;
    assert_eq!(body["status"], 503);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("opengov-api migrate"),
        "{body}"
    );
    // Migrating the same database makes it ready.
    let migrated = TestApp::sqlite(false);
    assert_eq!(migrated.get("/readyz").await.status, 200);
}
