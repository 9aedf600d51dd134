//! The examples of README.md and docs/*.md, run against the real binary, so the docs stay true.
//!
//! For each page a fresh server (the real binary, fixtures loaded on its first start, rate limits
//! off) runs in a fresh directory holding a copy of `fixtures/`; the page's examples then run in
//! document order in one `bash`, so later examples build on earlier ones (a token, an upload, a
//! file written by the page). Each ```console block is a list of `$ ` commands (`\` continues a
//! command on the next line), each followed by its shown output, which must be what the command
//! prints (stdout and stderr) once `127.0.0.1:<port>` reads `127.0.0.1:8080`. `…` in a shown
//! line stands for any text (a cut, or a value that changes from run to run), and a line that is
//! only `…` for any number of lines. Directives in HTML comments right before a block:
//! `<!-- example: not run — <reason> -->`, `<!-- example: file <path> -->` / `append <path>`
//! (the block is written to that file), and a free-standing `<!-- example: setup` … `-->` (shell
//! lines run at that point). A ```python block followed by a bare block (its output) runs with
//! the conformance venv's `python3`. A block of another kind that holds a `curl` must be marked
//! not run. The conventions are in docs/EXAMPLES.md.
//!
//! `UPDATE_DOC_EXAMPLES=1 cargo test --test integration doc_examples` rewrites every shown output
//! that differs from what its command printed, keeping the `…` cuts and markers.
//!
//! The examples need bash, curl and jq (the python ones also requests and pandas); without them a
//! page's test prints `doc examples skipped: …` and passes, unless `REQUIRE_DOC_EXAMPLES=1` (CI).

use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use similar::{ChangeTag, TextDiff};

use crate::binary::{BIN, free_port, spawn_with_log, wait_for_line};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
/// The address the docs use; the test server's own address is written back to it.
const DOC_ADDR: &str = "127.0.0.1:8080";
/// In a shown line: any text. A shown line that is only this: any number of lines.
const CUT: char = '…';
/// Upper bound of one example (and of the server's start): a clear failure, not a hang.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Ends each example's output in the shell's stdout: the ASCII record separator, then the status.
const DONE: &str = "\u{1e}doc-example-done ";

macro_rules! doc_pages {
    ($($name:ident => $path:literal),* $(,)?) => {
        /// Every page whose examples are checked.
        const PAGES: &[&str] = &[$($path),*];
        $(
            #[test]
            fn $name() {
                check_page($path);
            }
        )*
    };
}

doc_pages! {
    readme => "README.md",
    api => "docs/API.md",
    architecture => "docs/ARCHITECTURE.md",
    benchmarks => "docs/BENCHMARKS.md",
    citing => "docs/CITING.md",
    configuration => "docs/CONFIGURATION.md",
    data => "docs/DATA.md",
    deployment => "docs/DEPLOYMENT.md",
    examples => "docs/EXAMPLES.md",
    security => "docs/SECURITY.md",
    sync => "docs/SYNC.md",
}

#[test]
fn every_page_of_the_docs_is_checked() {
    let mut pages = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(Path::new(REPO).join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            pages.push(format!("docs/{name}"));
        }
    }
    pages.sort();
    let mut checked: Vec<String> = PAGES.iter().map(|p| p.to_string()).collect();
    checked.sort();
    assert_eq!(
        pages, checked,
        "every page of README.md and docs/*.md needs its line in doc_pages! (tests/integration/doc_examples.rs)"
    );
}

// ---------------------------------------------------------------------------------------------
// Reading a page

/// What a page asks to run, in document order.
#[derive(Debug)]
enum Step {
    /// Shell lines of a `<!-- example: setup … -->` comment; they must succeed.
    Setup { line: usize, script: String },
    /// A code block written to a file of the page's directory.
    WriteFile {
        line: usize,
        path: String,
        content: String,
        append: bool,
    },
    /// The commands of one ```console block.
    Console(Vec<Example>),
    /// A ```python block run with `python3`, and the bare (or ```text) block after it: its
    /// output.
    Python(Example),
}

/// One `$ ` command of a console block and the output shown after it.
#[derive(Debug)]
struct Example {
    /// 1-based line of the `$ `.
    line: usize,
    /// The command without `$ `; continuation lines (after a `\`) joined by newlines.
    command: String,
    /// The shown output, trailing blank lines left out.
    shown: Vec<String>,
    /// The 0-based source lines of `shown` (empty: where it would go).
    at: Range<usize>,
    /// The block's indentation, put back on rewritten lines.
    indent: String,
}

/// An `<!-- example: … -->` comment.
#[derive(Debug)]
enum Directive {
    NotRun,
    File { path: String, append: bool },
    Setup(String),
}

/// The steps of a page, and what is wrong with its markup (each naming its line).
#[derive(Debug, Default)]
struct Page {
    steps: Vec<Step>,
    problems: Vec<String>,
    not_run: usize,
}

fn parse_directive(comment: &str) -> Option<Result<Directive, String>> {
    let body = comment.trim().strip_prefix("<!--")?.strip_suffix("-->")?;
    let rest = body.trim_start().strip_prefix("example:")?.trim_start();
    let directive = if let Some(reason) = rest.strip_prefix("not run") {
        let reason = reason.trim().trim_start_matches(['—', '-', ':']).trim();
        if reason.is_empty() {
            Err("`not run` needs a reason: <!-- example: not run — <reason> -->".to_owned())
        } else {
            Ok(Directive::NotRun)
        }
    } else if let Some(path) = rest.strip_prefix("file ") {
        Ok(Directive::File {
            path: path.trim().to_owned(),
            append: false,
        })
    } else if let Some(path) = rest.strip_prefix("append ") {
        Ok(Directive::File {
            path: path.trim().to_owned(),
            append: true,
        })
    } else if let Some(script) = rest.strip_prefix("setup") {
        Ok(Directive::Setup(script.trim().to_owned()))
    } else {
        Err(format!(
            "unknown example directive {:?}: use `not run — <reason>`, `file <path>`, \
             `append <path>` or `setup`",
            rest.trim()
        ))
    };
    Some(directive)
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

fn parse_page(text: &str) -> Page {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut page = Page::default();
    // The directive waiting for its block: (line, directive).
    let mut pending: Option<(usize, Directive)> = None;
    let mut html: Option<(usize, String)> = None;
    // A python block waiting for its output block: (line, code).
    let mut python: Option<(usize, String)> = None;
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::HtmlBlock) => {
                html = Some((line_of(text, range.start), String::new()))
            }
            Event::Html(part) => {
                if let Some((_, comment)) = html.as_mut() {
                    comment.push_str(&part);
                }
            }
            Event::End(TagEnd::HtmlBlock) => {
                let (line, comment) = html.take().unwrap_or_default();
                match parse_directive(&comment) {
                    None => {}
                    Some(Err(problem)) => page.problems.push(format!("line {line}: {problem}")),
                    Some(Ok(Directive::Setup(script))) => {
                        page.steps.push(Step::Setup { line, script })
                    }
                    Some(Ok(directive)) => {
                        if let Some((at, _)) = pending.replace((line, directive)) {
                            page.problems.push(format!(
                                "line {at}: the directive is not followed by a code block"
                            ));
                        }
                    }
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let first = line_of(text, range.start);
                let last = line_of(text, range.end.saturating_sub(1).max(range.start));
                let opening = lines[first - 1];
                let indent = &opening[..opening.len() - opening.trim_start().len()];
                let closed = last > first && lines[last - 1].trim_start().starts_with("```");
                let body_end = if closed { last - 1 } else { last };
                // (1-based line, text without the block's indentation)
                let body: Vec<(usize, String)> = (first + 1..=body_end)
                    .map(|n| {
                        let line = lines[n - 1];
                        let strip = line.len() - line.trim_start_matches(' ').len();
                        (n, line[strip.min(indent.len())..].to_owned())
                    })
                    .collect();
                let lang = info.split_whitespace().next().unwrap_or("").to_owned();
                let directive = pending.take().map(|(_, d)| d);
                let program = python.take();
                match (lang.as_str(), directive) {
                    (_, Some(Directive::NotRun)) => page.not_run += 1,
                    ("" | "text", None) if program.is_some() => {
                        let (line, code) = program.expect("checked");
                        let mut shown: Vec<String> = body.iter().map(|(_, l)| l.clone()).collect();
                        while shown.last().is_some_and(|l| l.trim().is_empty()) {
                            shown.pop();
                        }
                        page.steps.push(Step::Python(Example {
                            line,
                            command: format!("python3 - <<'DOC_EXAMPLE_PY'\n{code}DOC_EXAMPLE_PY"),
                            at: first..first + shown.len(),
                            shown,
                            indent: indent.to_owned(),
                        }));
                    }
                    ("python", None) => {
                        python = Some((first, body.iter().map(|(_, l)| format!("{l}\n")).collect()))
                    }
                    ("console", Some(_)) => page.problems.push(format!(
                        "line {first}: a console block cannot be written to a file"
                    )),
                    ("console", None) => match parse_console(&body, indent) {
                        Ok(examples) => page.steps.push(Step::Console(examples)),
                        Err(problem) => page.problems.push(problem),
                    },
                    (_, Some(Directive::File { path, append })) => {
                        let content = body.iter().map(|(_, l)| format!("{l}\n")).collect();
                        page.steps.push(Step::WriteFile {
                            line: first,
                            path,
                            content,
                            append,
                        });
                    }
                    (_, Some(Directive::Setup(_))) => unreachable!("setup is never pending"),
                    (_, None) => {
                        if body.iter().any(|(_, l)| l.contains("curl ")) {
                            page.problems.push(format!(
                                "line {first}: a curl example outside a ```console block: show it \
                                 with its output in a console block, or mark it \
                                 <!-- example: not run — <reason> -->"
                            ));
                        }
                    }
                }
            }
            Event::Start(_) => {
                python = None;
                if let Some((at, _)) = pending.take() {
                    page.problems.push(format!(
                        "line {at}: the directive is not followed by a code block"
                    ));
                }
            }
            _ => {}
        }
    }
    if let Some((at, _)) = pending {
        page.problems.push(format!(
            "line {at}: the directive is not followed by a code block"
        ));
    }
    page
}

fn is_prompt(line: &str) -> Option<&str> {
    line.strip_prefix("$ ").or((line == "$").then_some(""))
}

fn parse_console(body: &[(usize, String)], indent: &str) -> Result<Vec<Example>, String> {
    let mut examples = Vec::new();
    let mut k = 0;
    while k < body.len() {
        let (line, text) = &body[k];
        let Some(first) = is_prompt(text) else {
            if text.trim().is_empty() {
                k += 1;
                continue;
            }
            return Err(format!("line {line}: output before any `$ ` command"));
        };
        let mut command = first.to_owned();
        while command.ends_with('\\') {
            k += 1;
            let Some((_, next)) = body.get(k) else {
                return Err(format!(
                    "line {line}: the command continues after the block's end"
                ));
            };
            command.push('\n');
            command.push_str(next);
        }
        k += 1;
        let start = k;
        while k < body.len() && is_prompt(&body[k].1).is_none() {
            k += 1;
        }
        let mut end = k;
        while end > start && body[end - 1].1.trim().is_empty() {
            end -= 1;
        }
        // 0-based source lines: after the command's last line.
        let from = body[start - 1].0;
        examples.push(Example {
            line: *line,
            command,
            shown: body[start..end].iter().map(|(_, l)| l.clone()).collect(),
            at: from..from + (end - start),
            indent: indent.to_owned(),
        });
    }
    Ok(examples)
}

// ---------------------------------------------------------------------------------------------
// Comparing

/// Whether a shown line matches a line of output: equal, each `…` standing for any text.
fn line_matches(shown: &str, actual: &str) -> bool {
    let parts: Vec<&str> = shown.split(CUT).collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        // No `…`.
        return shown == actual;
    };
    if actual.len() < first.len() + last.len()
        || !actual.starts_with(first)
        || !actual.ends_with(last)
    {
        return false;
    }
    let mut rest = &actual[first.len()..actual.len() - last.len()];
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn is_gap(shown: &str) -> bool {
    shown.trim() == CUT.to_string()
}

/// How a shown line lines up with the output.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    /// Shown line i matches output line j.
    Keep(usize, usize),
    /// The gap line i stands for output line j.
    Absorb(usize, usize),
    /// The gap line i ends.
    GapEnd(usize),
    /// Shown line i differs from output line j.
    Replace(usize, usize),
    /// Shown line i is not in the output.
    Delete(usize),
    /// Output line j is not shown.
    Insert(usize),
}

/// The cheapest alignment of shown lines to output lines (each differing line costs 1), and its
/// cost: 0 when the output is as shown.
fn align(shown: &[String], actual: &[String]) -> (usize, Vec<Op>) {
    let (s, a) = (shown.len(), actual.len());
    let width = a + 1;
    let mut cost = vec![0usize; (s + 1) * width];
    let mut choice = vec![Op::Insert(0); (s + 1) * width];
    for i in (0..=s).rev() {
        for j in (0..=a).rev() {
            let at = i * width + j;
            if i == s && j == a {
                continue;
            }
            let mut best: Option<(usize, Op)> = None;
            let mut consider = |c: usize, op: Op| {
                if best.is_none_or(|(b, _)| c < b) {
                    best = Some((c, op));
                }
            };
            if i < s && is_gap(&shown[i]) {
                consider(cost[(i + 1) * width + j], Op::GapEnd(i));
                if j < a {
                    consider(cost[at + 1], Op::Absorb(i, j));
                }
            } else {
                if i < s && j < a && line_matches(&shown[i], &actual[j]) {
                    consider(cost[(i + 1) * width + j + 1], Op::Keep(i, j));
                }
                if i < s && j < a {
                    consider(1 + cost[(i + 1) * width + j + 1], Op::Replace(i, j));
                }
                if j < a {
                    consider(1 + cost[at + 1], Op::Insert(j));
                }
                if i < s {
                    consider(1 + cost[(i + 1) * width + j], Op::Delete(i));
                }
            }
            let (c, op) = best.expect("a move exists");
            cost[at] = c;
            choice[at] = op;
        }
    }
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < s || j < a {
        let op = choice[i * width + j];
        ops.push(op);
        match op {
            Op::Keep(..) | Op::Replace(..) => (i, j) = (i + 1, j + 1),
            Op::Absorb(..) | Op::Insert(_) => j += 1,
            Op::GapEnd(_) | Op::Delete(_) => i += 1,
        }
    }
    (cost[0], ops)
}

/// The output as it should be shown: what `ops` kept, the gaps, and the new output lines, each
/// replaced line keeping its `…` markers where the output still fits them.
fn rewritten(shown: &[String], actual: &[String], ops: &[Op]) -> Vec<String> {
    let mut lines = Vec::new();
    for op in ops {
        match *op {
            Op::Keep(i, _) | Op::GapEnd(i) => lines.push(shown[i].clone()),
            Op::Replace(i, j) => lines.push(rewrite_line(&shown[i], &actual[j])),
            Op::Insert(j) => lines.push(actual[j].clone()),
            Op::Absorb(..) | Op::Delete(_) => {}
        }
    }
    lines
}

/// `actual`, with the parts that `shown` left out or marked with `…` still marked so.
fn rewrite_line(shown: &str, actual: &str) -> String {
    if !shown.contains(CUT) {
        return actual.to_owned();
    }
    let kept = shown.chars().count() - 1;
    if shown.ends_with(CUT) && shown.matches(CUT).count() == 1 {
        // A line cut at its end stays as long.
        return if actual.chars().count() > kept {
            actual.chars().take(kept).chain([CUT]).collect()
        } else {
            actual.to_owned()
        };
    }
    // Unchanged text is kept; a changed run that held a `…` becomes `…` again, any other takes
    // the new text.
    let mut line = String::new();
    let (mut old, mut new) = (String::new(), String::new());
    let flush = |line: &mut String, old: &mut String, new: &mut String| {
        if old.contains(CUT) {
            line.push(CUT);
        } else {
            line.push_str(new);
        }
        old.clear();
        new.clear();
    };
    for change in TextDiff::from_chars(shown, actual).iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => {
                flush(&mut line, &mut old, &mut new);
                line.push_str(change.value());
            }
            ChangeTag::Delete => old.push_str(change.value()),
            ChangeTag::Insert => new.push_str(change.value()),
        }
    }
    flush(&mut line, &mut old, &mut new);
    if line_matches(&line, actual) {
        line
    } else {
        actual.to_owned()
    }
}

/// The differences, one line each: `  ` kept, `- ` shown only, `+ ` printed only.
fn render_diff(shown: &[String], actual: &[String], ops: &[Op]) -> String {
    let mut out = String::new();
    let mut absorbed = 0;
    for op in ops {
        match *op {
            Op::Keep(_, j) => out.push_str(&format!("    {}\n", actual[j])),
            Op::Absorb(..) => absorbed += 1,
            Op::GapEnd(_) => {
                out.push_str(&format!("    {CUT} ({absorbed} lines)\n"));
                absorbed = 0;
            }
            Op::Replace(i, j) => {
                out.push_str(&format!("  - {}\n  + {}\n", shown[i], actual[j]));
            }
            Op::Delete(i) => out.push_str(&format!("  - {}\n", shown[i])),
            Op::Insert(j) => out.push_str(&format!("  + {}\n", actual[j])),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Running

fn examples_required() -> bool {
    std::env::var("REQUIRE_DOC_EXAMPLES").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Whether the tools the console examples call are here; when one is missing, says so and
/// answers false, or fails when the examples are required.
fn tools_present() -> bool {
    let path = example_path();
    for tool in ["bash", "curl", "jq"] {
        if !std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()) {
            assert!(
                !examples_required(),
                "REQUIRE_DOC_EXAMPLES is set but `{tool}` is not on PATH (apt-get install {tool})"
            );
            println!("doc examples skipped: no {tool} on PATH");
            return false;
        }
    }
    true
}

/// Whether a `python3` that imports what the python examples import is on the examples' PATH
/// (the conformance venv first, where `.ci/python-requirements.txt` puts requests and pandas).
fn python_present() -> bool {
    let works = Command::new("python3")
        .args(["-c", "import requests, pandas"])
        .env("PATH", example_path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !works {
        assert!(
            !examples_required(),
            "REQUIRE_DOC_EXAMPLES is set but no python3 with requests and pandas is on PATH \
             (CONFORMANCE_VENV with .ci/python-requirements.txt installed)"
        );
        println!("doc examples: python examples skipped: no python3 with requests and pandas");
    }
    works
}

/// The PATH of the examples: the binary under test first (as `opengov-api`), then the
/// conformance venv (its `python3`), then the system's.
fn example_path() -> String {
    let mut dirs = vec![Path::new(BIN).parent().unwrap().to_path_buf()];
    if let Some(venv) = std::env::var_os("CONFORMANCE_VENV") {
        dirs.push(Path::new(&venv).join("bin"));
    }
    dirs.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(Into::into));
    std::env::join_paths(dirs)
        .expect("directories without `:`")
        .into_string()
        .expect("a UTF-8 PATH")
}

/// The real binary serving the page's directory's `data/opengov.db` (created and loaded on its
/// first start, as in the README); killed when dropped.
struct Server {
    child: Child,
    addr: String,
    /// Kept, so that the server's log is read to its end and never fills the pipe.
    log: mpsc::Receiver<String>,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let addr = format!("127.0.0.1:{}", free_port());
        let (child, lines) = spawn_with_log(
            Command::new(BIN)
                .args(["serve", "--bind", &addr])
                .args(["--rate-limit-per-minute", "0"])
                .args(["--token-rate-limit-per-minute", "0"])
                .env_clear()
                .env("PATH", example_path())
                // No access log: the page's requests need no record here.
                .env("RUST_LOG", "warn,opengov_api=info")
                .current_dir(dir),
        );
        // Dropping the server on a failed start kills it.
        let server = Server {
            child,
            addr,
            log: lines,
        };
        wait_for_line(&server.log, "serving on");
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `bash` for a page's examples, so shell variables carry over from one to the next.
struct Shell {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

/// What one example printed.
struct Run {
    lines: Vec<String>,
    status: i32,
}

impl Shell {
    fn start(dir: &Path) -> Shell {
        let mut child = Command::new("bash")
            .args(["--noprofile", "--norc"])
            .env_clear()
            .env("PATH", example_path())
            .env("HOME", dir)
            .env("LC_ALL", "C.UTF-8")
            .env("TZ", "UTC")
            .env("TERM", "dumb")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group, so that whatever an example leaves running ends with it.
            .process_group(0)
            .spawn()
            .expect("start bash");
        let mut stdin = child.stdin.take().unwrap();
        // A terminal shows both streams, in the order they are written.
        writeln!(stdin, "exec 2>&1").unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut raw = Vec::new();
            loop {
                raw.clear();
                match reader.read_until(b'\n', &mut raw) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&raw);
                        let line = line.strip_suffix('\n').unwrap_or(&line);
                        let line = line.strip_suffix('\r').unwrap_or(line);
                        if tx.send(line.to_owned()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Shell {
            child,
            stdin,
            lines,
        }
    }

    /// Runs `script` (stdin from /dev/null) and returns what it printed, trailing blank lines
    /// left out, and its exit status.
    fn run(&mut self, script: &str) -> Result<Run, String> {
        // `$?` is the example's status again afterwards, as it would be in a terminal.
        write!(
            self.stdin,
            "{{ {script}\n}} < /dev/null\ndoc_example_status=$?\n\
             printf '\\n{DONE}%s\\n' \"$doc_example_status\"\n(exit $doc_example_status)\n"
        )
        .map_err(|e| format!("the shell is gone: {e}"))?;
        self.stdin
            .flush()
            .map_err(|e| format!("the shell is gone: {e}"))?;
        let mut lines = Vec::new();
        loop {
            match self.lines.recv_timeout(TIMEOUT) {
                Ok(line) => {
                    if let Some(status) = line.strip_prefix(DONE) {
                        while lines.last().is_some_and(|l: &String| l.trim().is_empty()) {
                            lines.pop();
                        }
                        let status = status.trim().parse().unwrap_or(-1);
                        return Ok(Run { lines, status });
                    }
                    lines.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "did not finish within {} s; printed:\n{}",
                        TIMEOUT.as_secs(),
                        lines.join("\n")
                    ));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(format!("the shell ended; printed:\n{}", lines.join("\n")));
                }
            }
        }
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals the process group this shell leads (made
        // by `process_group(0)`); no memory is involved.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The outcome of a page's examples; every message names the page and the line.
struct Outcome {
    /// Markup that cannot be read, a setup that failed, a command that could not run.
    problems: Vec<String>,
    /// Each command whose output differs from the shown one, with the differences.
    differences: Vec<String>,
    /// The page with every differing shown output replaced by what its command printed.
    rewritten: Option<String>,
    /// How many commands ran, how many blocks were marked not run, how many python examples
    /// were left out (no python3 with the libraries they import).
    ran: usize,
    not_run: usize,
    skipped_python: usize,
}

/// A page's examples as they run: the shell, and what was found so far.
struct PageRun<'a> {
    label: &'a str,
    /// The test server's address, which `127.0.0.1:8080` stands for.
    server: Option<&'a str>,
    shell: Shell,
    problems: Vec<String>,
    differences: Vec<String>,
    /// (source lines, new lines) of each shown output to rewrite.
    edits: Vec<(Range<usize>, Vec<String>)>,
}

impl PageRun<'_> {
    fn for_server(&self, text: &str) -> String {
        match self.server {
            Some(addr) => text.replace(DOC_ADDR, addr),
            None => text.to_owned(),
        }
    }

    fn as_shown(&self, text: &str) -> String {
        match self.server {
            Some(addr) => text.replace(addr, DOC_ADDR),
            None => text.to_owned(),
        }
    }

    /// Runs setup lines, which must succeed; false when the shell could not go on.
    fn setup(&mut self, line: usize, script: &str) -> bool {
        let label = self.label;
        match self.shell.run(&self.for_server(script)) {
            Ok(run) if run.status == 0 => true,
            Ok(run) => {
                self.problems.push(format!(
                    "{label}:{line}: the setup failed (exit status {}):\n{}",
                    run.status,
                    run.lines.join("\n")
                ));
                true
            }
            Err(e) => {
                self.problems.push(format!("{label}:{line}: the setup {e}"));
                false
            }
        }
    }

    /// Runs an example and compares its output with the shown one; false when it could not
    /// run (the page stops there).
    fn check(&mut self, example: &Example) -> bool {
        let label = self.label;
        let run = match self.shell.run(&self.for_server(&example.command)) {
            Ok(run) => run,
            Err(e) => {
                self.problems.push(format!(
                    "{label}:{}: `{}` {e}\n(a block that cannot run against a fresh server needs \
                     <!-- example: not run — <reason> -->)",
                    example.line, example.command
                ));
                return false;
            }
        };
        let actual: Vec<String> = run.lines.iter().map(|l| self.as_shown(l)).collect();
        let (cost, ops) = align(&example.shown, &actual);
        if cost > 0 {
            self.differences.push(format!(
                "{label}:{}: the output of `$ {}` differs from what is shown (exit status {}; \
                 `-` shown, `+` printed):\n{}",
                example.line,
                example.command,
                run.status,
                render_diff(&example.shown, &actual, &ops)
            ));
            let lines = rewritten(&example.shown, &actual, &ops)
                .into_iter()
                .map(|l| {
                    if l.is_empty() {
                        l
                    } else {
                        format!("{}{l}", example.indent)
                    }
                })
                .collect();
            self.edits.push((example.at.clone(), lines));
        }
        true
    }
}

/// Writes a file a page asks for, in its directory.
fn write_file(dir: &Path, path: &str, content: &str, append: bool) -> std::io::Result<()> {
    let target = dir.join(path);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&target)?
        .write_all(content.as_bytes())
}

/// Runs the steps of `page` (the text of `label`) in `dir`; `server` is the address the
/// examples' `127.0.0.1:8080` stands for, if a server runs; python examples only with
/// `run_python`.
fn run_page(
    label: &str,
    text: &str,
    dir: &Path,
    server: Option<&str>,
    run_python: bool,
) -> Outcome {
    let page = parse_page(text);
    let mut run = PageRun {
        label,
        server,
        shell: Shell::start(dir),
        problems: page
            .problems
            .iter()
            .map(|p| format!("{label}: {p}"))
            .collect(),
        differences: Vec::new(),
        edits: Vec::new(),
    };
    let (mut ran, mut skipped_python) = (0, 0);
    'steps: for step in &page.steps {
        match step {
            Step::Setup { line, script } => {
                if !run.setup(*line, script) {
                    break 'steps;
                }
            }
            Step::WriteFile {
                line,
                path,
                content,
                append,
            } => {
                if let Err(e) = write_file(dir, path, content, *append) {
                    run.problems.push(format!("{label}:{line}: {path}: {e}"));
                }
            }
            Step::Console(examples) => {
                for example in examples {
                    ran += 1;
                    if !run.check(example) {
                        break 'steps;
                    }
                }
            }
            Step::Python(_) if !run_python => skipped_python += 1,
            Step::Python(example) => {
                ran += 1;
                if !run.check(example) {
                    break 'steps;
                }
            }
        }
    }
    let rewritten = (!run.edits.is_empty()).then(|| {
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        for (at, new) in run.edits.into_iter().rev() {
            lines.splice(at, new);
        }
        lines.join("\n")
    });
    Outcome {
        problems: run.problems,
        differences: run.differences,
        rewritten,
        ran,
        not_run: page.not_run,
        skipped_python,
    }
}

fn check_page(path: &str) {
    let file = Path::new(REPO).join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    let steps = parse_page(&text).steps;
    let runs_something = !steps.is_empty();
    if runs_something && !tools_present() {
        return;
    }
    let has_python = steps.iter().any(|step| matches!(step, Step::Python(_)));
    let run_python = has_python && python_present();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(REPO).join("fixtures"),
        &dir.path().join("fixtures"),
    );
    let server = runs_something.then(|| Server::start(dir.path()));
    let outcome = run_page(
        path,
        &text,
        dir.path(),
        server.as_ref().map(|s| s.addr.as_str()),
        run_python,
    );
    let update = std::env::var("UPDATE_DOC_EXAMPLES").is_ok_and(|v| !v.is_empty() && v != "0");
    if update && let Some(new_text) = &outcome.rewritten {
        std::fs::write(&file, new_text).unwrap();
        println!(
            "{path}: the shown output of {} examples rewritten from what they printed",
            outcome.differences.len()
        );
    }
    let mut failures = outcome.problems;
    if !update {
        failures.extend(outcome.differences);
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) with the examples of {path} (UPDATE_DOC_EXAMPLES=1 takes the printed \
         outputs; conventions in docs/EXAMPLES.md):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    println!(
        "doc examples of {path}: commands run as shown: {}; blocks marked not run: {}; python \
         examples skipped: {}",
        outcome.ran, outcome.not_run, outcome.skipped_python
    );
}

// ---------------------------------------------------------------------------------------------
// The checker itself, on pages written here (bash only, no server)

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

/// Runs a page written here in a fresh directory.
fn run_text(text: &str) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    run_page("page.md", text, dir.path(), None, false)
}

#[test]
fn a_shown_line_matches_equal_text_and_cuts_stand_for_any_text() {
    assert!(line_matches("abc", "abc"));
    assert!(!line_matches("abc", "abd"));
    assert!(line_matches("ab…", "abcdef"));
    assert!(line_matches("…ef", "abcdef"));
    assert!(line_matches(
        r#"{"at":"…","n":…}"#,
        r#"{"at":"2026-12-04","n":5}"#
    ));
    assert!(!line_matches(
        r#"{"at":"…","n":5}"#,
        r#"{"at":"2026-12-04","n":6}"#
    ));
    assert!(
        !line_matches("a…a", "a"),
        "the text around a cut cannot overlap"
    );
    let (cost, _) = align(&lines("first\n…\nlast"), &lines("first\n2\n3\nlast"));
    assert_eq!(cost, 0, "a line of its own `…` stands for any lines");
    let (cost, _) = align(&lines("first\nlast"), &lines("first\n2\nlast"));
    assert_eq!(cost, 1, "without `…`, every printed line must be shown");
}

#[test]
fn a_changed_output_fails_naming_the_page_line_and_difference() {
    let page = "# Page\n\n```console\n$ printf 'a\\nb\\n'\na\nc\n\n$ echo same\nsame\n```\n";
    let outcome = run_text(page);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert_eq!(outcome.ran, 2);
    assert_eq!(outcome.differences.len(), 1, "{:?}", outcome.differences);
    let difference = &outcome.differences[0];
    assert!(difference.starts_with("page.md:4: "), "{difference}");
    assert!(difference.contains("  - c\n  + b\n"), "{difference}");
}

#[test]
fn rewriting_takes_the_printed_output_and_keeps_cuts_and_markers() {
    let page = "\
```console
$ printf '{\"n\":6,\"at\":\"2026-12-04T20:46:10Z\"}\\nkept\\n1\\n2\\n3\\nnew line\\n'
{\"n\":5,\"at\":\"…\"}
kept
…
old line
```
";
    let outcome = run_text(page);
    assert_eq!(outcome.differences.len(), 1, "{:?}", outcome.differences);
    let rewritten = outcome.rewritten.expect("a rewritten page");
    assert!(
        rewritten.contains("{\"n\":6,\"at\":\"…\"}\nkept\n…\nnew line\n```"),
        "{rewritten}"
    );
    assert!(
        run_text(&rewritten).differences.is_empty(),
        "the rewritten page holds"
    );
}

#[test]
fn shell_state_and_exit_status_carry_over_files_are_written_and_setup_runs() {
    let page = "\
<!-- example: file notes/a.txt -->
```text
one
```

<!-- example: append notes/a.txt -->
```text
two
```

<!-- example: setup
word=three
-->

```console
$ x=$(wc -l < notes/a.txt)
$ echo \"$x $word\"
2 three
$ (exit 3)
$ echo \"exit status $?\"
exit status 3
```
";
    let outcome = run_text(page);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert!(outcome.differences.is_empty(), "{:?}", outcome.differences);
    assert_eq!(outcome.ran, 4);
}

#[test]
fn unmarked_blocks_that_cannot_be_checked_are_refused() {
    let page = "\
```sh
curl -s http://127.0.0.1:8080/healthz
```

<!-- example: not run -->
```console
$ true
```

<!-- example: not run — it needs a second server -->
```sh
curl -s http://127.0.0.1:8080/healthz
```

```console
output first
```
";
    let outcome = run_text(page);
    let problems = outcome.problems.join("\n");
    assert!(
        problems.contains("page.md: line 1: a curl example outside"),
        "{problems}"
    );
    assert!(
        problems.contains("page.md: line 5: `not run` needs a reason"),
        "{problems}"
    );
    assert!(
        problems.contains("page.md: line 16: output before any"),
        "{problems}"
    );
    assert_eq!(outcome.problems.len(), 3, "{problems}");
    assert_eq!(outcome.not_run, 1);
}
