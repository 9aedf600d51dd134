//! Keyset pages with opaque cursors bound to their filters, in the body and the Link header.

use crate::both_backends;

both_backends!(walking_pages_returns_every_record_once, |app| {
    let all = app.get("/api/v1/institutions?limit=1000").await.json();
    let total = all["total"].as_i64().unwrap();
    let expected: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(total > 3, "enough institutions to page through");
    let mut seen = Vec::new();
    let mut uri = "/api/v1/institutions?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let res = app.get(&uri).await;
        assert_eq!(res.status, 200);
        let body = res.json();
        assert_eq!(body["total"], total);
        assert_eq!(
            res.header("x-total-count"),
            Some(total.to_string().as_str())
        );
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                let link = res
                    .header("link")
                    .expect("Link header when a next page exists");
                assert!(link.ends_with("rel=\"next\""));
                assert!(link.contains(cursor));
                assert_eq!(
                    body["links"]["next"]
                        .as_str()
                        .map(|n| format!("<{n}>; rel=\"next\""))
                        .as_deref(),
                    Some(link)
                );
                uri = format!("/api/v1/institutions?limit=3&cursor={cursor}");
            }
            None => {
                assert!(res.header("link").is_none());
                assert!(body["links"]["next"].is_null());
                break;
            }
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, (total + 2) / 3);
});

both_backends!(cursor_is_bound_to_its_filters, |app| {
    let first = app
        .get("/api/v1/milestones?limit=2&plan=khm-2021-2025")
        .await
        .json();
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more than two milestones")
        .to_owned();
    let same = app
        .get(&format!(
            "/api/v1/milestones?limit=2&plan=khm-2021-2025&cursor={cursor}"
        ))
        .await;
    assert_eq!(same.status, 200);
    let other = app
        .get(&format!(
            "/api/v1/milestones?limit=2&status=complete&cursor={cursor}"
        ))
        .await;
    let p = other.problem(400);
    assert_eq!(p["parameter"], "cursor");
    assert!(p["detail"].as_str().unwrap().contains("different filters"));
    let garbage = app
        .get("/api/v1/milestones?cursor=bm90LWEtY3Vyc29y")
        .await
        .problem(400);
    assert_eq!(garbage["parameter"], "cursor");
});

both_backends!(csv_pages_carry_the_link_header, |app| {
    let res = app.get("/api/v1/institutions.csv?limit=5").await;
    assert_eq!(res.status, 200);
    let link = res.header("link").expect("next page link for CSV");
    assert!(link.contains("/api/v1/institutions.csv?"));
    assert_eq!(res.text().lines().count(), 6, "header + 5 rows");
});

both_backends!(cursors_belong_to_their_collection, |app| {
    let page = app.get("/api/v1/institutions?limit=2").await.json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let p = app
        .get(&format!("/api/v1/sources?limit=2&cursor={cursor}"))
        .await
        .problem(400);
    assert_eq!(p["parameter"], "cursor");
});

both_backends!(csv_without_limit_is_a_complete_export, |app| {
    let total = app.get("/api/v1/institutions").await.json()["total"]
        .as_i64()
        .unwrap();
    let res = app.get("/api/v1/institutions.csv").await;
    assert!(res.header("link").is_none());
    assert_eq!(res.text().lines().count() as i64, total + 1);
});
