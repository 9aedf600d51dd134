//! The web pages in a real headless Chromium (Debian's package), driven over the DevTools
//! protocol by `headless_chrome`: the real binary serves a fresh SQLite database with the built-in
//! fixtures, and each test checks what a visitor gets — no console errors, the language switch,
//! the table filter, the map's markers, an axe-core audit and a phone-sized layout.
//!
//! Without a Chromium binary (`/usr/bin/chromium`, or env `CHROMIUM`) every test prints
//! `browser tests skipped: no Chromium at <path>` and passes, unless `REQUIRE_BROWSER=1` (CI).
//! With env `SCREENSHOTS_DIR` the tests save PNG screenshots of the main pages there.
//!
//! Waits are for conditions the page states (load state, `data-markers`, the URL), polled; never
//! for a fixed time.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Emulation, Log, Page, Runtime};
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::{Value, json};

use crate::binary::{BIN, free_port, spawn_with_log, wait_for_line};

const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// axe-core, vendored from npm (see tests/vendor/axe-core/README.md).
const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");
/// The WCAG levels the audit covers.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/// Upper bound of every wait: generous for a loaded 2-core machine, still a clear failure.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Desktop screenshots show the page up to this height (CSS pixels), to keep the PNGs small.
const SCREENSHOT_MAX_HEIGHT: u32 = 2000;
/// The pages of the fixtures every test that walks "the main pages" opens.
const COMMITMENT: &str = "khm-2021-2025-c1";
const INSTITUTION: &str = "khmelnytskinfocenter";
/// Sample points: the real `cultural-heritage` items have no coordinates yet, so its map is empty.
const REGISTRY_WITH_MAP: &str = "digital-learning-hubs";
/// Real data in Ukrainian, for the search field.
const REGISTRY_TO_SEARCH: &str = "cultural-heritage";
const REGISTRY_WITHOUT_GEOMETRY: &str = "territorial-units";

/// One Chromium at a time: the pages are light, but several browsers beside a parallel cargo
/// build on two cores would make every wait a gamble.
static BROWSER_LOCK: Mutex<()> = Mutex::new(());

/// The main pages: (screenshot name, path).
fn main_pages() -> Vec<(&'static str, String)> {
    vec![
        ("home-uk", "/?lang=uk".into()),
        ("home-en", "/?lang=en".into()),
        ("home-es", "/?lang=es".into()),
        ("commitment", format!("/commitments/{COMMITMENT}?lang=en")),
        (
            "institution",
            format!("/institutions/{INSTITUTION}?lang=en"),
        ),
        ("registries", "/registries?lang=en".into()),
        (
            "registry-map",
            format!("/registries/{REGISTRY_WITH_MAP}?lang=en"),
        ),
        (
            "registry-table",
            format!("/registries/{REGISTRY_WITHOUT_GEOMETRY}?lang=en"),
        ),
    ]
}

/// The Chromium to drive, or `None` (after saying so) when there is none and none is required.
fn chromium() -> Option<PathBuf> {
    let path =
        PathBuf::from(std::env::var_os("CHROMIUM").unwrap_or_else(|| DEFAULT_CHROMIUM.into()));
    if path.is_file() {
        return Some(path);
    }
    let required = std::env::var("REQUIRE_BROWSER").is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "REQUIRE_BROWSER is set but there is no Chromium at {}",
        path.display()
    );
    println!("browser tests skipped: no Chromium at {}", path.display());
    None
}

/// The real binary serving a fresh SQLite database (fixtures loaded on first start); killed
/// when dropped.
struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// `tiles` is the `--map-tiles-url` value (`none`: no tile layer, so no outside requests).
    fn start(tiles: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("x.db").display());
        let addr = format!("127.0.0.1:{}", free_port());
        let (child, lines) = spawn_with_log(
            Command::new(BIN)
                .args(["serve", "--bind", &addr, "--database-url", &url])
                .args(["--rate-limit-per-minute", "0", "--map-tiles-url", tiles])
                .env("RUST_LOG", "info")
                .current_dir(dir.path()),
        );
        let server = Server {
            child,
            base: format!("http://{addr}"),
            _dir: dir,
        };
        wait_for_line(&lines, "serving on");
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the page reported that a visitor's browser would count as broken.
#[derive(Clone, Debug)]
struct Problem {
    /// Where it came from: `console.error`, `exception`, or the Log domain's source (`network`…).
    kind: String,
    text: String,
    /// The resource it concerns, when the browser names one.
    url: Option<String>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.kind, self.text)?;
        if let Some(url) = &self.url {
            write!(f, " ({url})")?;
        }
        Ok(())
    }
}

/// A headless Chromium with one tab, recording console errors, uncaught exceptions and error
/// log entries (failed loads, CSP refusals) from the moment it opens.
struct Session {
    // Field order: the tab goes before the browser that owns it.
    tab: Arc<Tab>,
    browser: Browser,
    problems: Arc<Mutex<Vec<Problem>>>,
    base: String,
    _server: Server,
    _lock: MutexGuard<'static, ()>,
}

impl Session {
    /// A browser on a fresh server started with `--map-tiles-url tiles`; `None` when the tests
    /// are skipped (no Chromium).
    fn open(tiles: &str) -> Option<Session> {
        let path = chromium()?;
        let lock = BROWSER_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let server = Server::start(tiles);
        // Exactly the flags: `sandbox: false` adds --no-sandbox (and its setuid twin),
        // `enable_gpu: false` adds --disable-gpu; headless_chrome's own list of defaults is off,
        // so besides these Chromium gets only --headless, the debugging port and a temporary
        // profile.
        let options = LaunchOptions {
            path: Some(path),
            headless: true,
            sandbox: false,
            enable_gpu: false,
            disable_default_args: true,
            args: vec![OsStr::new("--disable-background-networking")],
            window_size: Some((1280, 800)),
            idle_browser_timeout: Duration::from_secs(300),
            ..LaunchOptions::default()
        };
        let browser = Browser::new(options).expect("Chromium starts");
        let tab = browser.new_tab().expect("a tab");
        tab.set_default_timeout(TIMEOUT);
        let problems = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&problems);
        tab.add_event_listener(Arc::new(move |event: &Event| {
            if let Some(problem) = problem_of(event) {
                sink.lock().unwrap().push(problem);
            }
        }))
        .unwrap();
        tab.enable_runtime().unwrap();
        tab.enable_log().unwrap();
        let session = Session {
            tab,
            browser,
            problems,
            base: server.base.clone(),
            _server: server,
            _lock: lock,
        };
        session.set_viewport(1280, 800, 1.0, false);
        Some(session)
    }

    /// Opens `path` on the server and waits until the page has settled.
    fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.tab.navigate_to(&url).expect("navigation starts");
        self.tab.wait_until_navigated().expect("navigation ends");
        self.settle();
    }

    /// Waits for the load event and, where the page has a map, for the map script to report its
    /// markers (so errors it throws are seen).
    fn settle(&self) {
        self.wait_for(
            "the page to load",
            "document.readyState === 'complete' && \
             (!document.querySelector('#map') || document.querySelector('#map[data-markers]'))",
        );
    }

    /// Evaluates `body` (the body of an async function) in the page and returns its result.
    fn eval(&self, body: &str) -> Value {
        let answer = self
            .tab
            .call_method(Runtime::Evaluate {
                expression: format!(
                    "(async () => {{ {body} }})().then(v => JSON.stringify(v === undefined ? null : v))"
                ),
                return_by_value: Some(true),
                await_promise: Some(true),
                object_group: None,
                include_command_line_api: None,
                silent: Some(true),
                context_id: None,
                generate_preview: None,
                user_gesture: None,
                throw_on_side_effect: None,
                timeout: None,
                disable_breaks: None,
                repl_mode: None,
                allow_unsafe_eval_blocked_by_csp: None,
                unique_context_id: None,
                serialization_options: None,
            })
            .expect("Runtime.evaluate");
        if let Some(details) = answer.exception_details {
            panic!(
                "script failed: {} {:?}\n{body}",
                details.text,
                details.exception.and_then(|e| e.description)
            );
        }
        let text = answer.result.value.expect("a JSON string");
        serde_json::from_str(text.as_str().expect("a JSON string")).unwrap()
    }

    /// Polls `condition` (a JS expression) until it is true; panics after `TIMEOUT`.
    fn wait_for(&self, what: &str, condition: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if self.eval(&format!("return Boolean({condition});")) == json!(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} ({condition}) on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self) -> String {
        self.eval("return location.href;")
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Clicks the element (a real mouse click at its centre) and waits for the next page.
    fn click_and_wait(&self, selector: &str) {
        let before = self.url();
        self.tab
            .find_element(selector)
            .unwrap_or_else(|e| panic!("no {selector} on {before}: {e}"))
            .click()
            .unwrap();
        self.wait_for_next_page(&before);
    }

    fn wait_for_next_page(&self, before: &str) {
        self.wait_for(
            "the next page",
            &format!("location.href !== {}", json!(before)),
        );
        self.tab.wait_until_navigated().unwrap();
        self.settle();
    }

    /// Takes the problems recorded so far.
    fn take_problems(&self) -> Vec<Problem> {
        std::mem::take(&mut *self.problems.lock().unwrap())
    }

    /// A phone (mobile, touch-sized viewport) or a desktop window.
    fn set_viewport(&self, width: u32, height: u32, scale: f64, mobile: bool) {
        self.tab
            .call_method(Emulation::SetDeviceMetricsOverride {
                width,
                height,
                device_scale_factor: scale,
                mobile,
                scale: None,
                screen_width: None,
                screen_height: None,
                position_x: None,
                position_y: None,
                dont_set_visible_size: None,
                screen_orientation: None,
                viewport: None,
                display_feature: None,
                device_posture: None,
            })
            .unwrap();
    }

    /// Saves a PNG of the page (from the top, at most `max_height` CSS pixels) as
    /// `$SCREENSHOTS_DIR/<name>.png`, when that variable is set.
    fn screenshot(&self, name: &str, max_height: u32) {
        let Some(dir) = std::env::var_os("SCREENSHOTS_DIR") else {
            return;
        };
        let size = self.eval(
            "return [document.documentElement.clientWidth, document.documentElement.scrollHeight];",
        );
        let width = size[0].as_f64().unwrap();
        let height = size[1].as_f64().unwrap().min(f64::from(max_height));
        let png = self
            .tab
            .call_method(Page::CaptureScreenshot {
                format: Some(Page::CaptureScreenshotFormatOption::Png),
                quality: None,
                clip: Some(Page::Viewport {
                    x: 0.0,
                    y: 0.0,
                    width,
                    height,
                    scale: 1.0,
                }),
                from_surface: Some(true),
                capture_beyond_viewport: Some(true),
                optimize_for_speed: None,
            })
            .unwrap()
            .data;
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png)
            .unwrap();
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }

    /// Runs axe-core on the current page; returns its violations.
    fn axe(&self) -> Vec<Value> {
        if self.eval("return typeof axe;") != json!("object") {
            // Evaluated by DevTools, so the page's CSP does not apply to it.
            self.eval(&format!("{AXE}\nreturn null;"));
        }
        let result = self.eval(&format!(
            "const r = await axe.run(document, {{ runOnly: {{ type: 'tag', values: {} }} }});
             return r.violations.map(v => ({{ id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => n.target.join(' ')) }}));",
            json!(AXE_TAGS)
        ));
        result.as_array().unwrap().clone()
    }
}

/// The problem an event reports, if it is one.
fn problem_of(event: &Event) -> Option<Problem> {
    match event {
        Event::RuntimeConsoleAPICalled(e)
            if e.params.Type == Runtime::ConsoleAPICalledEventTypeOption::Error =>
        {
            let text = e
                .params
                .args
                .iter()
                .map(|a| match (&a.value, &a.description) {
                    (Some(v), _) => v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    (None, Some(d)) => d.clone(),
                    (None, None) => format!("{:?}", a.Type),
                })
                .collect::<Vec<_>>()
                .join(" ");
            Some(Problem {
                kind: "console.error".into(),
                text,
                url: None,
            })
        }
        Event::RuntimeExceptionThrown(e) => {
            let details = &e.params.exception_details;
            let description = details
                .exception
                .as_ref()
                .and_then(|x| x.description.clone())
                .unwrap_or_default();
            Some(Problem {
                kind: "exception".into(),
                text: format!("{} {description}", details.text),
                url: details.url.clone(),
            })
        }
        Event::LogEntryAdded(e) if e.params.entry.level == Log::LogEntryLevel::Error => {
            let entry = &e.params.entry;
            Some(Problem {
                kind: format!("{:?}", entry.source).to_lowercase(),
                text: entry.text.clone(),
                url: entry.url.clone(),
            })
        }
        _ => None,
    }
}

/// Asserts that `problems` is empty, listing them otherwise.
fn assert_clean(page: &str, problems: &[Problem]) {
    assert!(
        problems.is_empty(),
        "{page}: the browser reported:\n{}",
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The harness itself: a failed load, a console error and an uncaught exception are all
/// recorded, so a clean page is clean because nothing was reported, not because nothing listens.
#[test]
fn the_harness_records_failed_loads_console_errors_and_exceptions() {
    let Some(session) = Session::open("none") else {
        return;
    };
    session.goto("/no-such-page");
    session.eval(
        "console.error('harness check'); setTimeout(() => { throw new Error('harness boom'); });",
    );
    let deadline = Instant::now() + TIMEOUT;
    let problems = loop {
        let seen = session.problems.lock().unwrap().clone();
        let has =
            |kind: &str, text: &str| seen.iter().any(|p| p.kind == kind && p.text.contains(text));
        if (has("network", "404") && has("console.error", "harness check"))
            && has("exception", "harness boom")
        {
            break seen;
        }
        assert!(Instant::now() < deadline, "not all recorded: {seen:#?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        problems.iter().any(|p| p
            .url
            .as_deref()
            .is_some_and(|u| u.ends_with("/no-such-page"))),
        "the failed load names its URL: {problems:#?}"
    );
}

/// Every main page loads (desktop window) without console errors, uncaught exceptions or failed
/// loads, in the language it was asked for.
#[test]
fn main_pages_load_without_console_errors() {
    let Some(session) = Session::open("none") else {
        return;
    };
    for (name, path) in main_pages() {
        session.goto(&path);
        let lang = session.eval("return document.documentElement.lang;");
        if let Some(asked) = path.split("lang=").nth(1) {
            assert_eq!(lang, json!(asked), "{path}: <html lang>");
        }
        let landmarks = session.eval(
            "return [!!document.querySelector('main#main'), !!document.querySelector('nav#language'),
                     !!document.querySelector('a.api-link')];",
        );
        assert_eq!(
            landmarks,
            json!([true, true, true]),
            "{path}: main#main, nav#language, a.api-link"
        );
        session.screenshot(&format!("{name}-desktop"), SCREENSHOT_MAX_HEIGHT);
        assert_clean(&path, &session.take_problems());
    }
}

/// `Accept-Language: en` gives English; the switch's Ukrainian link gives Ukrainian, and the
/// links of that page keep it.
#[test]
fn the_language_switch_changes_the_language_and_internal_links_keep_it() {
    let Some(session) = Session::open("none") else {
        return;
    };
    let agent = session.browser.get_version().unwrap().user_agent;
    session
        .tab
        .set_user_agent(&agent, Some("en"), None)
        .unwrap();
    session.goto("/");
    let state = |s: &Session| {
        s.eval(
            "const current = document.querySelector('nav#language a[aria-current=\"true\"]');
             return [document.documentElement.lang, current && current.hreflang,
                     new URL(location.href).searchParams.get('lang')];",
        )
    };
    assert_eq!(
        state(&session),
        json!(["en", "en", null]),
        "from Accept-Language"
    );

    session.click_and_wait("nav#language a[hreflang='uk']");
    assert_eq!(
        state(&session),
        json!(["uk", "uk", "uk"]),
        "after the switch"
    );

    // An internal link of the page (not the API, a download or the switch itself).
    let link = session.eval(
        "const a = [...document.querySelectorAll('main a[href]')].find(a =>
           a.origin === location.origin && !a.closest('nav#language') &&
           !a.pathname.startsWith('/api/') && !a.pathname.startsWith('/static/') &&
           !a.classList.contains('api-link') && !a.classList.contains('download') &&
           a.pathname !== location.pathname);
         if (!a) return null;
         a.setAttribute('data-browser-test', 'follow');
         return a.href;",
    );
    assert!(link.is_string(), "the home page links to another page");
    session.click_and_wait("[data-browser-test='follow']");
    assert_eq!(
        state(&session),
        json!(["uk", "uk", "uk"]),
        "after following {link}"
    );

    session.click_and_wait("nav#language a[hreflang='es']");
    assert_eq!(
        state(&session),
        json!(["es", "es", "es"]),
        "switched to Spanish"
    );
    assert_clean("language switch", &session.take_problems());
}

/// Typing a word of one row into the registry's search field and submitting narrows the table
/// to rows that contain it.
#[test]
fn the_registry_table_filter_narrows_the_rows() {
    let Some(session) = Session::open("none") else {
        return;
    };
    session.goto(&format!("/registries/{REGISTRY_TO_SEARCH}?lang=uk"));
    let count = |s: &Session| {
        s.eval("return Number(document.querySelector('#item-count').dataset.count);")
            .as_u64()
            .expect("#item-count[data-count] is a number")
    };
    let total = count(&session);
    // The word of the first rows that the fewest rows on the page share (letters only, so the
    // server's normalisation of apostrophes and spaces cannot make it mean something else).
    let word = session.eval(
        "const rows = [...document.querySelectorAll('table#items tbody tr')]
           .map(r => r.innerText.toLowerCase());
         let best = null, fewest = Infinity;
         for (const row of rows.slice(0, 5)) {
           for (const w of row.match(/\\p{L}{5,}/gu) || []) {
             const n = rows.filter(r => r.includes(w)).length;
             if (n < fewest) { best = w; fewest = n; }
           }
         }
         return best;",
    );
    let word = word.as_str().expect("a word in the first rows").to_owned();
    assert!(total > 1, "the registry has more than one item");

    let before = session.url();
    session
        .tab
        .find_element("form#filter input[name='q']")
        .unwrap()
        .type_into(&word)
        .unwrap();
    session.tab.press_key("Enter").unwrap();
    session.wait_for_next_page(&before);

    let url = session.url();
    assert!(url.contains("q="), "the search is in the URL: {url}");
    let filtered = count(&session);
    assert!(
        (1..total).contains(&filtered),
        "{word:?}: {filtered} of {total} items"
    );
    let rows = session.eval(
        "return [...document.querySelectorAll('table#items tbody tr')].map(r => r.innerText);",
    );
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty(), "rows are shown");
    assert!(
        rows.len() as u64 <= filtered,
        "{} rows, count {filtered}",
        rows.len()
    );
    for row in rows {
        let row = row.as_str().unwrap();
        assert!(
            row.to_lowercase().contains(&word),
            "a row without {word:?}: {row}"
        );
    }
    assert_clean("table filter", &session.take_problems());
}

/// The map draws the registry's items: `data-markers` counts them and each is an SVG path
/// inside the map.
fn assert_markers(session: &Session, slug: &str) -> u64 {
    let drawn = session.eval(
        "const map = document.querySelector('#map');
         const box = map.getBoundingClientRect();
         const paths = [...map.querySelectorAll('path.leaflet-interactive')];
         const inside = paths.filter(p => { const r = p.getBoundingClientRect();
           return r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom; });
         return [Number(map.dataset.markers), paths.length, inside.length,
                 map.dataset.error || null];",
    );
    let (markers, paths, inside) = (
        drawn[0].as_u64().unwrap(),
        drawn[1].as_u64().unwrap(),
        drawn[2].as_u64().unwrap(),
    );
    assert!(
        markers > 0,
        "{slug}: data-markers={markers}, data-error={}",
        drawn[3]
    );
    assert_eq!(paths, markers, "{slug}: one SVG path per drawn item");
    assert!(inside > 0, "{slug}: no marker within the map's box");
    markers
}

/// Points, lines and polygons all show on the map (no tile layer).
#[test]
fn the_map_shows_points_lines_and_polygons() {
    let Some(session) = Session::open("none") else {
        return;
    };
    for slug in [
        "communal-property",
        "housing-stock",
        "digital-learning-hubs",
        "road-monitoring",
        "budget-on-map",
    ] {
        session.goto(&format!("/registries/{slug}?lang=en"));
        assert_markers(&session, slug);
        assert_clean(slug, &session.take_problems());
    }
    // A registry without geometry has no map at all.
    session.goto(&format!("/registries/{REGISTRY_WITHOUT_GEOMETRY}?lang=en"));
    assert_eq!(
        session.eval("return !!document.querySelector('#map');"),
        json!(false)
    );
}

/// With a tile server that refuses connections the markers still show; the failed tiles are
/// the only errors.
#[test]
fn the_map_shows_markers_when_the_tiles_fail() {
    let closed = format!("http://127.0.0.1:{}/", free_port());
    let Some(session) = Session::open(&format!("{closed}{{z}}/{{x}}/{{y}}.png")) else {
        return;
    };
    session.goto(&format!("/registries/{REGISTRY_WITH_MAP}?lang=en"));
    assert_markers(&session, REGISTRY_WITH_MAP);
    // Tile requests run on their own; wait until at least one has been refused.
    let deadline = Instant::now() + TIMEOUT;
    while !session
        .problems
        .lock()
        .unwrap()
        .iter()
        .any(|p| p.url.as_deref().is_some_and(|u| u.starts_with(&closed)))
    {
        assert!(
            Instant::now() < deadline,
            "no tile was requested from {closed}: {:#?}",
            session.problems.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let others: Vec<Problem> = session
        .take_problems()
        .into_iter()
        .filter(|p| !p.url.as_deref().is_some_and(|u| u.starts_with(&closed)))
        .collect();
    assert_clean("map with failing tiles", &others);
}

/// axe-core finds no serious or critical WCAG 2.1 A/AA violation on any main page; lesser
/// ones are printed.
#[test]
fn main_pages_pass_an_axe_core_audit() {
    let Some(session) = Session::open("none") else {
        return;
    };
    let mut serious = Vec::new();
    for (_, path) in main_pages() {
        session.goto(&path);
        for violation in session.axe() {
            let line = format!(
                "{path}: {} ({}): {} — {} element(s), e.g. {}",
                violation["id"].as_str().unwrap_or_default(),
                violation["impact"].as_str().unwrap_or("?"),
                violation["help"].as_str().unwrap_or_default(),
                violation["count"],
                violation["nodes"]
            );
            if matches!(violation["impact"].as_str(), Some("serious" | "critical")) {
                serious.push(line);
            } else {
                println!("axe (minor/moderate): {line}");
            }
        }
        assert_clean(&path, &session.take_problems());
    }
    assert!(
        serious.is_empty(),
        "serious or critical axe violations:\n{}",
        serious.join("\n")
    );
}

/// On a phone (390×844 CSS pixels, scale 2) no main page scrolls sideways, and each sets a
/// device-width viewport (otherwise the phone would lay it out 980 pixels wide).
#[test]
fn main_pages_fit_a_phone_screen() {
    let Some(session) = Session::open("none") else {
        return;
    };
    session.set_viewport(390, 844, 2.0, true);
    let mut overflows = Vec::new();
    for (name, path) in main_pages() {
        session.goto(&path);
        // A page wider than the screen makes a phone zoom out, so `innerWidth` grows with it:
        // measure against the device width instead.
        let fit = session.eval(
            "const width = 390;
             const wide = [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > width + 1)
               .slice(0, 5)
               .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                 (e.classList.length ? '.' + [...e.classList].join('.') : ''));
             const meta = document.querySelector('meta[name=viewport]');
             return [!!meta && meta.content.includes('width=device-width'),
                     document.documentElement.scrollWidth, wide];",
        );
        assert_eq!(fit[0], json!(true), "{path}: a width=device-width viewport");
        if fit[1].as_u64().unwrap() > 390 {
            overflows.push(format!(
                "{path}: {} CSS pixels wide, wider than 390: {}",
                fit[1], fit[2]
            ));
        }
        session.screenshot(&format!("{name}-phone"), 844);
        assert_clean(&path, &session.take_problems());
    }
    assert!(overflows.is_empty(), "{}", overflows.join("\n"));
}
