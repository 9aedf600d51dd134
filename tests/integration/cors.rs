//! Browsers from any origin may read; nothing else is open to them.

use actix_web::http::Method;
use actix_web::test::TestRequest;

use crate::both_backends;

both_backends!(any_origin_may_read_and_see_paging_and_validators, |app| {
    let res = app
        .get_with(
            "/api/v1/commitments?limit=1",
            &[("Origin", "https://students.example.org")],
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let exposed = res
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in [
        "link",
        "etag",
        "data-release",
        "x-total-count",
        "last-modified",
    ] {
        assert!(exposed.contains(name), "{name} exposed in {exposed}");
    }
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));

    let preflight = app
        .call(
            TestRequest::default()
                .method(Method::OPTIONS)
                .uri("/api/v1/registries/territorial-units/items")
                .insert_header(("Origin", "https://students.example.org"))
                .insert_header(("Access-Control-Request-Method", "GET"))
                .insert_header(("Access-Control-Request-Headers", "if-none-match")),
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    let methods = preflight.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("GET") && !methods.contains("POST"),
        "{methods}"
    );

    let write = app
        .call(
            TestRequest::default()
                .method(Method::OPTIONS)
                .uri("/api/v1/commitments")
                .insert_header(("Origin", "https://elsewhere.example.org"))
                .insert_header(("Access-Control-Request-Method", "POST")),
        )
        .await;
    assert!(
        !write.status.is_success(),
        "a cross-origin write is not allowed"
    );
    assert!(write.header("access-control-allow-origin").is_none());
});

both_backends!(every_answer_says_nosniff, |app| {
    for url in [
        "/api/v1",
        "/api/v1/nope",
        "/docs/",
        "/api/v1/registries/territorial-units/items.csv",
    ] {
        let res = app.get(url).await;
        assert_eq!(
            res.header("x-content-type-options"),
            Some("nosniff"),
            "{url}"
        );
    }
});
