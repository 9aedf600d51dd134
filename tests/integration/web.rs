//! The web pages under `/`, through HTTP on both backends: languages, progress that matches the
//! API, citations that resolve, the registry browser agreeing with the API call it links to,
//! downloads, the map's data, HTML error pages, assets and security headers.

use scraper::{Html, Selector};
use serde_json::Value;

use crate::both_backends;
use crate::common::{Response, TestApp};

fn page(response: &Response) -> Html {
    assert_eq!(
        response.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    Html::parse_document(&response.text())
}

fn select<'a>(html: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(css).expect("selector"))
        .collect()
}

fn one<'a>(html: &'a Html, css: &str) -> scraper::ElementRef<'a> {
    let found = select(html, css);
    assert_eq!(found.len(), 1, "exactly one {css}");
    found[0]
}

fn attr(element: scraper::ElementRef<'_>, name: &str) -> String {
    element
        .value()
        .attr(name)
        .unwrap_or_else(|| panic!("{name} on {:?}", element.value()))
        .to_owned()
}

fn words(element: scraper::ElementRef<'_>) -> String {
    element.text().collect::<Vec<_>>().join("")
}

/// Every page has the landmarks, the language switch and a working API link.
async fn check_shell(app: &TestApp, html: &Html, lang: &str) {
    assert_eq!(attr(one(html, "html"), "lang"), lang);
    one(html, "main#main");
    one(html, "a.skip[href='#main']");
    let switch = select(html, "nav#language a[hreflang]");
    assert_eq!(switch.len(), 3);
    let current = select(html, "nav#language a[aria-current='true']");
    assert_eq!(current.len(), 1);
    assert_eq!(attr(current[0], "hreflang"), lang);
    for link in switch {
        let href = attr(link, "href");
        assert!(
            href.ends_with(&format!("lang={}", attr(link, "hreflang"))),
            "{href}"
        );
    }
    let api = attr(one(html, "a.api-link"), "href");
    assert!(api.starts_with("/api/v1/"), "{api}");
    let data = app.get(&api).await;
    assert_eq!(data.status.as_u16(), 200, "{api}");
    // Links within the site keep the language.
    for a in select(html, "main a[href^='/'], header a[href^='/']") {
        let href = attr(a, "href");
        if !href.starts_with("/api/") && !href.starts_with("/docs") && !href.starts_with("/static")
        {
            assert!(href.contains("lang="), "{href} forgets the language");
        }
    }
}

/// Every `[n]` citation points at a source listed on the page.
fn check_citations(html: &Html) {
    let cites = select(html, "a.cite[href^='#source-']");
    assert!(!cites.is_empty(), "the page cites its sources");
    for cite in cites {
        let target = attr(cite, "href");
        assert_eq!(
            select(html, &format!("li{target}")).len(),
            1,
            "{target} is in the list of sources"
        );
    }
}

both_backends!(
    home_shows_each_commitments_progress_as_the_api_counts_it,
    |app| {
        let commitments = app.get("/api/v1/commitments?limit=100").await.json();
        let list = commitments["items"].as_array().unwrap();
        for lang in ["uk", "en", "es"] {
            let response = app.get(&format!("/?lang={lang}")).await;
            assert_eq!(response.header("content-language"), Some(lang));
            let html = page(&response);
            check_shell(&app, &html, lang).await;
            check_citations(&html);
            let bars = select(&html, "li.commitment .progress");
            assert_eq!(bars.len(), list.len(), "one bar per commitment");
            one(&html, "svg#timeline[role='img']");
            one(&html, "svg#timeline line.today");
        }
        let html = page(&app.get("/?lang=en").await);
        for (bar, commitment) in select(&html, "li.commitment .progress")
            .into_iter()
            .zip(list)
        {
            let progress = &commitment["progress"];
            let legend = words(bar);
            for (key, words_for) in [
                ("complete", "complete"),
                ("in_progress", "in progress"),
                ("not_started", "not started"),
                ("unknown", "status unknown"),
            ] {
                let expected = format!("{} {words_for}", progress[key]);
                assert!(legend.contains(&expected), "{legend:?} lacks {expected:?}");
            }
            let svg = bar.select(&Selector::parse("svg").unwrap()).next().unwrap();
            assert!(
                attr(svg, "aria-label")
                    .starts_with(&format!("{} milestones", progress["milestones_total"])),
                "the drawing is described in words"
            );
        }
    }
);

both_backends!(
    language_comes_from_accept_language_and_the_url_wins,
    |app| {
        let html = page(
            &app.get_with("/", &[("accept-language", "es-ES,es;q=0.9")])
                .await,
        );
        assert_eq!(attr(one(&html, "html"), "lang"), "es");
        let html = page(
            &app.get_with("/?lang=uk", &[("accept-language", "es")])
                .await,
        );
        assert_eq!(attr(one(&html, "html"), "lang"), "uk");
        let refused = app.get("/?lang=fr").await;
        assert_eq!(refused.status.as_u16(), 400);
        assert!(
            refused.text().contains("lang"),
            "the error names the parameter"
        );
    }
);

both_backends!(commitment_and_institution_pages_cite_their_sources, |app| {
    let commitments = app.get("/api/v1/commitments?limit=100").await.json();
    for c in commitments["items"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let html = page(&app.get(&format!("/commitments/{id}?lang=en")).await);
        check_shell(&app, &html, "en").await;
        check_citations(&html);
        let rows = select(&html, "#milestones-heading ~ .table-scroll tbody tr");
        assert_eq!(
            rows.len(),
            c["progress"]["milestones_total"].as_u64().unwrap() as usize
        );
    }
    let institutions = app.get("/api/v1/institutions?limit=100").await.json();
    let first = institutions["items"][0]["id"].as_str().unwrap().to_owned();
    let html = page(&app.get(&format!("/institutions/{first}?lang=uk")).await);
    check_shell(&app, &html, "uk").await;
    let missing = app.get_with("/institutions/no-such?lang=en", &[]).await;
    assert_eq!(missing.status.as_u16(), 404);
    assert_eq!(
        missing.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = Html::parse_document(&missing.text());
    assert!(words(one(&html, "[role='alert']")).contains("no-such"));
});

both_backends!(registries_list_matches_the_api_and_flags_samples, |app| {
    let api = app.get("/api/v1/registries?lang=en").await.json();
    let html = page(&app.get("/registries?lang=en").await);
    check_shell(&app, &html, "en").await;
    let cards = select(&html, "li.card");
    assert_eq!(cards.len() as u64, api["total"].as_u64().unwrap());
    let samples = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["sample"] == true)
        .count();
    assert_eq!(select(&html, "li.card .badge.sample").len(), samples);
    let sample_page = page(&app.get("/registries/housing-stock?lang=en").await);
    one(&sample_page, ".sample-notice[role='note']");
    let real_page = page(&app.get("/registries/cultural-heritage?lang=en").await);
    assert!(select(&real_page, ".sample-notice").is_empty());
});

both_backends!(
    registry_table_filter_sort_and_pages_agree_with_the_api,
    |app| {
        let slug = "cultural-heritage";
        let html = page(&app.get(&format!("/registries/{slug}?lang=en")).await);
        check_shell(&app, &html, "en").await;
        let api = app
            .get(&format!("/api/v1/registries/{slug}/items?limit=25"))
            .await
            .json();
        let count = attr(one(&html, "#item-count"), "data-count");
        assert_eq!(count, api["total"].to_string());
        let rows = select(&html, "table#items tbody tr");
        assert_eq!(rows.len(), api["items"].as_array().unwrap().len());
        // The API link of the page is the same query.
        let api_link = attr(one(&html, "a.api-link"), "href");
        let linked = app.get(&api_link).await.json();
        assert_eq!(linked["total"], api["total"]);

        // A word from the first item's text fields, as a search.
        let first = &api["items"][0]["properties"];
        let word = first
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_str)
            .flat_map(|s| s.split_whitespace())
            .find(|w| w.chars().count() >= 5 && w.chars().all(char::is_alphabetic))
            .expect("a word to search for")
            .to_owned();
        let query = serde_urlencoded::to_string([("q", word.as_str()), ("lang", "en")]).unwrap();
        let filtered = page(&app.get(&format!("/registries/{slug}?{query}")).await);
        let expected = app
            .get(&format!(
                "/api/v1/registries/{slug}/items?limit=25&{}",
                serde_urlencoded::to_string([("q", word.as_str())]).unwrap()
            ))
            .await
            .json();
        assert_eq!(
            attr(one(&filtered, "#item-count"), "data-count"),
            expected["total"].to_string()
        );
        let filtered_rows = select(&filtered, "table#items tbody tr");
        assert!(!filtered_rows.is_empty());
        assert!(filtered_rows.len() < rows.len() || api["total"] == expected["total"]);
        assert_eq!(
            attr(one(&filtered, "input[name='q']"), "value"),
            word,
            "the form shows the filter"
        );

        // Sorting by a column: the header links to sort=field, then sort=-field.
        let sort_link = attr(select(&html, "table#items thead th a")[1], "href");
        assert!(sort_link.contains("sort="), "{sort_link}");
        let sorted = page(&app.get(&sort_link).await);
        let sorted_header = one(&sorted, "table#items thead th[aria-sort='ascending']");
        let again = attr(
            sorted_header
                .select(&Selector::parse("a").unwrap())
                .next()
                .unwrap(),
            "href",
        );
        assert!(again.contains("sort=-"), "{again}");

        // The next page continues where the first ended.
        if api["next_cursor"].is_string() {
            let next = attr(one(&html, "nav.pager a[rel='next']"), "href");
            let second = page(&app.get(&next).await);
            let first_ids: Vec<String> = rows.iter().map(|r| words(*r)).collect();
            for row in select(&second, "table#items tbody tr") {
                assert!(!first_ids.contains(&words(row)), "page 2 repeats a row");
            }
            one(&second, "nav.pager a[href*='lang=en']");
        }
    }
);

both_backends!(downloads_and_map_data_are_the_filtered_items, |app| {
    let slug = "communal-property";
    let html = page(
        &app.get(&format!("/registries/{slug}?lang=en&limit=10"))
            .await,
    );
    let downloads: Vec<String> = select(&html, "a.download")
        .into_iter()
        .map(|a| attr(a, "href"))
        .collect();
    assert_eq!(downloads.len(), 4, "CSV, Excel CSV, GeoJSON, NDJSON");
    for href in &downloads {
        let response = app.get(href).await;
        assert_eq!(response.status.as_u16(), 200, "{href}");
        assert!(
            response
                .header("content-disposition")
                .is_some_and(|d| d.starts_with("attachment")),
            "{href} downloads"
        );
    }
    let excel = app.get(&downloads[1]).await;
    assert!(
        excel.body.starts_with("\u{feff}".as_bytes()),
        "Excel CSV has a BOM"
    );
    let map = one(&html, "div#map");
    let geojson = app.get(&attr(map, "data-geojson")).await.json();
    assert_eq!(geojson["type"], "FeatureCollection");
    assert_eq!(
        geojson["features"].as_array().unwrap().len(),
        select(&html, "table#items tbody tr").len(),
        "the map draws the rows of the table"
    );
    // Items without a location (the heritage register has no coordinates) get a note, not an
    // empty map.
    let unlocated = page(&app.get("/registries/cultural-heritage?lang=en").await);
    assert!(select(&unlocated, "div#map").is_empty());
    assert_eq!(select(&unlocated, "a.download").len(), 4);
    // A registry without geometry has no map and no GeoJSON download.
    let plain = page(&app.get("/registries/territorial-units?lang=en").await);
    assert!(select(&plain, "div#map").is_empty());
    assert_eq!(select(&plain, "a.download").len(), 3);
});

both_backends!(bad_filters_are_html_errors_naming_the_parameter, |app| {
    let wrong = app
        .get("/registries/cultural-heritage?lang=en&no_such_field=1")
        .await;
    assert_eq!(wrong.status.as_u16(), 400);
    assert_eq!(
        wrong.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = Html::parse_document(&wrong.text());
    assert!(words(one(&html, "[role='alert']")).contains("no_such_field"));
    // The same query on the API is the same refusal, as a problem document.
    let api = app
        .get("/api/v1/registries/cultural-heritage/items?no_such_field=1")
        .await;
    api.problem(400);
    // An empty form field is dropped by a redirect to the clean query.
    let submitted = app
        .get("/registries/cultural-heritage?lang=en&q=&limit=25")
        .await;
    assert_eq!(submitted.status.as_u16(), 303);
    assert_eq!(
        submitted.header("location"),
        Some("/registries/cultural-heritage?lang=en&limit=25")
    );
    let home = app.get("/?utm_source=x").await;
    assert_eq!(home.status.as_u16(), 400);
    assert!(home.text().contains("utm_source"));
    let missing = app.get("/registries/no-such?lang=en").await;
    assert_eq!(missing.status.as_u16(), 404);
});

both_backends!(pages_carry_a_policy_validators_and_html_404s, |app| {
    let response = app.get("/registries/cultural-heritage?lang=en").await;
    let policy = response.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(
        policy.contains("https://tile.openstreetmap.org"),
        "{policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let etag = response
        .header("etag")
        .expect("pages have a validator")
        .to_owned();
    let again = app
        .get_with(
            "/registries/cultural-heritage?lang=en",
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);

    let css = app.get("/static/site.css").await;
    assert_eq!(css.status.as_u16(), 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    let leaflet = app.get("/static/vendor/leaflet/leaflet.js").await;
    assert_eq!(leaflet.status.as_u16(), 200);
    assert!(leaflet.text().contains("Leaflet"));
    app.get("/static/nothing.js").await.problem(404);

    let browser = app
        .get_with("/no-such-page", &[("accept", "text/html,*/*")])
        .await;
    assert_eq!(browser.status.as_u16(), 404);
    assert_eq!(
        browser.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    app.get("/no-such-page").await.problem(404);
    app.get_with("/api/v1/nothing", &[("accept", "text/html")])
        .await
        .problem(404);
});

#[actix_web::test]
async fn without_tiles_the_policy_allows_no_other_origin() {
    let mut app = TestApp::sqlite(true);
    app.state.web.map_tiles = None;
    let response = app.get("/registries/communal-property?lang=en").await;
    let policy = response.header("content-security-policy").unwrap();
    assert!(policy.contains("img-src 'self' data:;"), "{policy}");
    let html = page(&response);
    let map = one(&html, "div#map");
    assert!(map.value().attr("data-tiles").is_none());
}

#[test]
fn tile_urls_are_checked() {
    use opengov_api::app::MapTiles;
    assert!(MapTiles::parse("https://tiles.example/{z}/{x}/{y}.png", "x").is_ok());
    assert!(MapTiles::parse("https://tiles.example/{z}/{x}.png", "x").is_err());
    assert!(MapTiles::parse("ftp://tiles.example/{z}/{x}/{y}.png", "x").is_err());
    let with_subdomains =
        MapTiles::parse("https://{s}.tiles.example/{z}/{x}/{y}.png", "x").unwrap();
    let options = opengov_api::app::WebOptions {
        map_tiles: Some(with_subdomains),
    };
    assert!(
        options
            .content_security_policy()
            .contains("img-src 'self' data: https://*.tiles.example;")
    );
}

both_backends!(registry_pages_label_fields_in_the_page_language, |app| {
    let slug = "communal-property";
    let metadata = app
        .get(&format!(
            "/api/v1/registries/{slug}/items.csv-metadata.json"
        ))
        .await
        .json();
    let columns = metadata["tableSchema"]["columns"].as_array().unwrap();
    for lang in ["uk", "en", "es"] {
        let html = page(&app.get(&format!("/registries/{slug}?lang={lang}")).await);
        let passport = app
            .get(&format!("/api/v1/registries/{slug}?lang={lang}"))
            .await
            .json();
        let fields = passport["fields"].as_array().unwrap();
        let labels: Vec<&str> = fields
            .iter()
            .map(|f| f["label"]["value"].as_str().unwrap())
            .collect();
        // The table's column headers.
        let headers: Vec<String> = select(&html, "table#items thead th")
            .into_iter()
            .map(words)
            .collect();
        assert_eq!(headers.len(), labels.len());
        for (header, label) in headers.iter().zip(&labels) {
            assert!(header.starts_with(label), "{lang}: {header:?} is {label:?}");
        }
        // The filter form names each field it filters by its label.
        let captions: Vec<String> = select(
            &html,
            "section[aria-labelledby='filter-heading'] label, \
             section[aria-labelledby='filter-heading'] legend",
        )
        .into_iter()
        .map(words)
        .collect();
        for field in fields {
            let name = field["name"].as_str().unwrap();
            if select(&html, &format!("[id^='filter-{name}']")).is_empty() {
                continue;
            }
            let label = field["label"]["value"].as_str().unwrap();
            assert!(
                captions.iter().any(|c| c.starts_with(label)),
                "{lang}: no caption {label:?} in {captions:?}"
            );
        }
        // "CSV for Excel": BOM, semicolons, the labels of the page's language (geometry columns
        // as titled in the CSVW metadata).
        let excel = select(&html, "a.download")
            .into_iter()
            .map(|a| attr(a, "href"))
            .find(|href| href.contains("header=labels"))
            .expect("a CSV for Excel");
        let body = app.get(&excel).await.text();
        assert!(body.starts_with('\u{feff}'), "{lang}: BOM");
        let header: Vec<String> = body
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap()
            .split(';')
            .map(str::to_owned)
            .collect();
        let mut expected: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        expected.extend(
            columns[fields.len()..]
                .iter()
                .map(|c| c["titles"][lang].as_str().unwrap().to_owned()),
        );
        assert_eq!(header, expected, "{lang}");
    }
});
