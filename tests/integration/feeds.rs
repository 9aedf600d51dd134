//! Atom feeds, read back with `feed-rs` (an independent parser, as a feed reader would).

use std::collections::HashSet;

use diesel::prelude::*;
use feed_rs::model::{Entry, Feed, FeedType};

use crate::both_backends;
use crate::common::TestApp;

const FEEDS: [&str; 3] = [
    "/api/v1/feeds/plan.atom",
    "/api/v1/feeds/releases.atom",
    "/api/v1/registries/territorial-units/feed.atom",
];

/// Fetches a feed and parses it, checking what every feed must satisfy.
async fn atom(app: &TestApp, uri: &str) -> Feed {
    atom_with(app, uri, &[]).await
}

async fn atom_with(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> Feed {
    let res = app.get_with(uri, headers).await;
    assert_eq!(res.status.as_u16(), 200, "{uri}: {}", res.text());
    assert_eq!(
        res.header("content-type"),
        Some("application/atom+xml; charset=utf-8"),
        "{uri}"
    );
    let feed = feed_rs::parser::parse(res.body.as_slice())
        .unwrap_or_else(|e| panic!("{uri} is not a feed ({e}): {}", res.text()));
    assert_eq!(feed.feed_type, FeedType::Atom, "{uri}");
    assert!(feed.id.starts_with("tag:"), "{uri}: feed id {}", feed.id);
    assert!(!feed.title.as_ref().expect("title").content.is_empty());
    assert!(!feed.authors.is_empty(), "{uri}: an author");
    let self_link = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("self"))
        .unwrap_or_else(|| panic!("{uri}: a self link"));
    assert!(
        (self_link.href.starts_with("http://") || self_link.href.starts_with("https://"))
            && self_link.href.ends_with(uri),
        "{uri}: self link {} is absolute",
        self_link.href
    );
    assert!(
        feed.links
            .iter()
            .any(|l| l.rel.as_deref() == Some("alternate") && l.href.starts_with("http")),
        "{uri}: an absolute alternate link"
    );
    let ids: HashSet<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), feed.entries.len(), "{uri}: entry ids are unique");
    for entry in &feed.entries {
        assert!(entry.id.starts_with("tag:"), "{uri}: entry id {}", entry.id);
        assert!(entry.updated.is_some(), "{uri}: {} has updated", entry.id);
        assert!(
            entry.links.iter().all(|l| l.href.starts_with("http")),
            "{uri}: entry links are absolute"
        );
    }
    let times: Vec<_> = feed.entries.iter().map(|e| e.updated.unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "{uri}: newest first"
    );
    if let Some(newest) = times.first() {
        assert_eq!(
            feed.updated,
            Some(*newest),
            "{uri}: updated is the newest entry's"
        );
    }
    feed
}

fn title(entry: &Entry) -> &str {
    entry.title.as_ref().map_or("", |t| t.content.as_str())
}

fn body(entry: &Entry) -> String {
    entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .or_else(|| entry.summary.as_ref().map(|s| s.content.clone()))
        .unwrap_or_default()
}

fn alternate(entry: &Entry) -> &str {
    entry
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("alternate"))
        .map_or("", |l| l.href.as_str())
}

fn ids(feed: &Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.id.clone()).collect()
}

both_backends!(feeds_are_valid_atom_with_stable_ids, |app| {
    for uri in FEEDS {
        let first = atom(&app, uri).await;
        assert!(
            !first.entries.is_empty(),
            "{uri}: the fixtures made entries"
        );
        let again = atom_with(&app, uri, &[("host", "other.example:8443")]).await;
        assert_eq!(
            first.id, again.id,
            "{uri}: the feed id does not depend on the host"
        );
        assert_eq!(
            ids(&first),
            ids(&again),
            "{uri}: the same ids on every request"
        );
        let self_link = again
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("self"));
        assert!(
            self_link
                .unwrap()
                .href
                .starts_with("http://other.example:8443/"),
            "the self link follows the request's host"
        );
    }
    let proxied = atom_with(
        &app,
        "/api/v1/feeds/releases.atom",
        &[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "data.example"),
        ],
    )
    .await;
    let self_link = proxied
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("self"));
    assert_eq!(
        self_link.unwrap().href,
        "https://data.example/api/v1/feeds/releases.atom"
    );
});

both_backends!(
    release_feeds_list_every_dataset_and_say_sample_data,
    |app| {
        let all = atom(&app, "/api/v1/feeds/releases.atom").await;
        let titles: Vec<&str> = all.entries.iter().map(title).collect();
        assert!(titles.contains(&"plan: release 1"), "{titles:?}");
        assert!(
            titles.contains(&"territorial-units: release 1"),
            "{titles:?}"
        );
        assert!(
            titles.contains(&"housing-stock: release 1 (sample data)"),
            "{titles:?}"
        );
        let housing = all
            .entries
            .iter()
            .find(|e| title(e).starts_with("housing-stock"))
            .unwrap();
        assert!(
            body(housing).contains("Sample data generated by"),
            "the sample note: {}",
            body(housing)
        );
        assert!(alternate(housing).ends_with("/api/v1/registries/housing-stock/releases/1"));
        let sample_feed = atom(&app, "/api/v1/registries/housing-stock/feed.atom").await;
        assert!(
            sample_feed.title.unwrap().content.contains("sample data"),
            "a sample registry's feed says so"
        );
        let one = atom(&app, "/api/v1/feeds/releases.atom?limit=1").await;
        assert_eq!(one.entries.len(), 1);
        assert_eq!(
            one.entries[0].id, all.entries[0].id,
            "limit keeps the newest"
        );
    }
);

both_backends!(an_import_is_the_newest_release_entry, |app| {
    use opengov_api::models::registries::{self, import};
    let before = atom(&app, "/api/v1/registries/territorial-units/feed.atom").await;
    let file = "katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy\n\
        UA68000000000099709,O,Хмельницька,UA68000000000099709,,,6800000000\n\
        UA68040000000086061,P,Хмельницький район,UA68000000000099709,UA68040000000086061,,6825000000\n";
    {
        let mut conn = app.pool().get().unwrap();
        let registry = registries::find_schema(&mut conn, "territorial-units")
            .unwrap()
            .unwrap();
        import::import(
            &mut conn,
            &registry,
            import::FileFormat::Csv,
            file.as_bytes(),
            "test",
            import::Publish::Always,
        )
        .unwrap();
    }
    let release = app
        .get("/api/v1/registries/territorial-units/releases/2")
        .await
        .json();
    for uri in [
        "/api/v1/registries/territorial-units/feed.atom",
        "/api/v1/feeds/releases.atom",
    ] {
        let feed = atom(&app, uri).await;
        let newest = &feed.entries[0];
        assert_eq!(title(newest), "territorial-units: release 2", "{uri}");
        assert_eq!(
            newest.id,
            "tag:opengov-api,2026:registries/territorial-units/releases/2"
        );
        let summary = body(newest);
        assert!(
            summary.contains(&format!(
                "2 records; 0 added, {} changed, {} removed",
                release["changed"], release["removed"]
            )),
            "{summary}"
        );
        assert!(
            summary.contains(release["sha256"].as_str().unwrap()),
            "{summary}"
        );
        assert_eq!(
            newest
                .updated
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            release["created_at"].as_str().unwrap()
        );
        assert!(
            newest.links.iter().any(|l| l
                .href
                .ends_with("/api/v1/registries/territorial-units/items?release=2")),
            "the pinned data"
        );
    }
    let after = atom(&app, "/api/v1/registries/territorial-units/feed.atom").await;
    assert_eq!(
        ids(&after)[1..],
        ids(&before)[..],
        "older entries keep their ids"
    );
});

both_backends!(a_milestone_status_change_reaches_the_plan_feed, |app| {
    use opengov_api::db::schema::{milestones, progress_updates};
    use opengov_api::models::plan_release;
    const MILESTONE: &str = "khm-2021-2025-c1-m1";
    const UPDATE: &str = "progress-geoportal-83-registers";
    let before = atom(&app, "/api/v1/feeds/plan.atom?limit=200").await;
    let created = before
        .entries
        .iter()
        .find(|e| e.id == format!("tag:opengov-api,2026:plan/releases/1/milestones/{MILESTONE}"))
        .expect("the fixture load created the milestone");
    assert!(
        title(created).starts_with("Milestone created"),
        "{}",
        title(created)
    );
    let release = {
        let mut conn = app.pool().get().unwrap();
        conn.write_transaction(|c| {
            diesel::update(milestones::table.find(MILESTONE))
                .set((
                    milestones::status.eq("complete"),
                    milestones::status_source_id.eq("decentralization-gov-ua-19334"),
                ))
                .execute(c)?;
            diesel::update(progress_updates::table.find(UPDATE))
                .set(progress_updates::value.eq(90.0))
                .execute(c)?;
            plan_release::publish(c, "test")
        })
        .unwrap()
        .expect("a new plan release")
    };
    let n = release.number;
    let feed = atom(&app, "/api/v1/feeds/plan.atom?lang=es").await;
    let newest: Vec<&Entry> = feed
        .entries
        .iter()
        .filter(|e| e.updated.unwrap() >= feed.entries[0].updated.unwrap())
        .collect();
    let milestone = newest
        .iter()
        .find(|e| e.id == format!("tag:opengov-api,2026:plan/releases/{n}/milestones/{MILESTONE}"))
        .expect("the status change is among the newest entries");
    assert_eq!(
        title(milestone),
        "Milestone status unknown → complete: transición total al flujo de documentos sin papel \
         en los órganos ejecutivos del Ayuntamiento"
    );
    let content = body(milestone);
    assert!(
        content.contains(
            "Status: unknown → complete (reported by source decentralization-gov-ua-19334)."
        ),
        "{content}"
    );
    assert!(content.contains(&format!("Plan release {n}")), "{content}");
    let pinned = format!("/api/v1/milestones/{MILESTONE}?release={n}");
    assert!(
        alternate(milestone).ends_with(&pinned),
        "{}",
        alternate(milestone)
    );
    assert!(content.contains(alternate(milestone)), "{content}");
    let at_release = app.get(&pinned).await.json();
    assert_eq!(
        at_release["status"], "complete",
        "the link shows the new status"
    );
    let update = newest
        .iter()
        .find(|e| {
            e.id == format!("tag:opengov-api,2026:plan/releases/{n}/progress_updates/{UPDATE}")
        })
        .expect("the changed progress update");
    assert!(
        title(update).starts_with("Progress update changed: "),
        "{}",
        title(update)
    );
    let content = body(update);
    assert!(
        content.contains("open_data_registers: 83 → 90."),
        "{content}"
    );
    assert!(
        content.contains("on milestone khm-2021-2025-c1-m3"),
        "{content}"
    );
    assert!(
        alternate(update).ends_with(&format!(
            "/api/v1/milestones/khm-2021-2025-c1-m3?release={n}&expand=progress_updates"
        )),
        "{}",
        alternate(update)
    );
    let again = atom(&app, "/api/v1/feeds/plan.atom?lang=es").await;
    assert_eq!(ids(&feed), ids(&again));
});

both_backends!(plan_feed_titles_follow_the_language, |app| {
    let res = app
        .get_with("/api/v1/feeds/plan.atom", &[("accept-language", "es")])
        .await;
    // Milestone titles exist in Spanish; progress update claims only in English (a fallback).
    assert_eq!(res.header("content-language"), Some("en, es"));
    let english = atom(&app, "/api/v1/feeds/plan.atom?lang=en&limit=200").await;
    let geoportal = english
        .entries
        .iter()
        .find(|e| {
            e.id.ends_with("/progress_updates/progress-geoportal-83-registers")
        })
        .expect("the fixture's progress update");
    assert_eq!(
        title(geoportal),
        "Progress update reported: created a geoportal with 83 open data registers"
    );
    assert!(res.header("vary").unwrap().contains("Accept-Language"));
    assert!(res.header("etag").is_some(), "feeds can be revalidated");
});

both_backends!(feed_errors_are_problems, |app| {
    let p = app
        .get("/api/v1/registries/no-such-registry/feed.atom")
        .await
        .problem(404);
    assert!(p["detail"].as_str().unwrap().contains("no-such-registry"));
    for bad in ["0", "201", "-1", "ten"] {
        for uri in FEEDS {
            let p = app.get(&format!("{uri}?limit={bad}")).await.problem(400);
            assert_eq!(p["parameter"], "limit", "{uri}?limit={bad}");
        }
    }
    let p = app
        .get("/api/v1/feeds/plan.atom?lang=de")
        .await
        .problem(400);
    assert_eq!(p["parameter"], "lang");
    let p = app
        .get("/api/v1/feeds/plan.atom?since=1")
        .await
        .problem(400);
    assert_eq!(p["parameter"], "since");
    for uri in FEEDS {
        let widest = atom(&app, &format!("{uri}?limit=200")).await;
        assert!(
            widest.entries.len() <= 200,
            "{uri}: the upper bound is accepted"
        );
    }
});

both_backends!(pruning_the_change_feed_leaves_the_plan_feed_whole, |app| {
    use opengov_api::db::schema::milestones;
    use opengov_api::models::{plan_release, releases};
    // A second plan release, so the fixture load's events are old enough to prune.
    {
        let mut conn = app.pool().get().unwrap();
        conn.write_transaction(|c| {
            diesel::update(milestones::table.find("khm-2021-2025-c1-m1"))
                .set((
                    milestones::status.eq("in_progress"),
                    milestones::status_source_id.eq("ogp-plan-es"),
                ))
                .execute(c)?;
            plan_release::publish(c, "test")
        })
        .unwrap()
        .expect("a new plan release");
    }
    let entries = |feed: &feed_rs::model::Feed| -> Vec<String> {
        feed.entries.iter().map(|e| e.id.clone()).collect()
    };
    let before = atom(&app, "/api/v1/feeds/plan.atom?limit=200").await;
    assert!(before.entries.len() > 5, "the fixture load is in the feed");
    let pruned = {
        let mut conn = app.pool().get().unwrap();
        let head = releases::head(&mut conn).unwrap();
        releases::prune_changes(&mut conn, head).unwrap()
    };
    assert!(pruned > 0, "old change events were pruned");
    let after = atom(&app, "/api/v1/feeds/plan.atom?limit=200").await;
    assert_eq!(entries(&after), entries(&before));
});
