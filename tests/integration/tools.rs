//! Outside tools the conformance tests run: validators and clients from PyPI, installed by
//! `.ci/run` into a venv (`.ci/python-requirements.txt`) and found through `CONFORMANCE_VENV`.
//!
//! Without the venv a conformance test prints `conformance tests skipped: …` and passes, like the
//! browser tests without Chromium; with `REQUIRE_CONFORMANCE=1` (CI) a missing tool is a failure.

use std::path::PathBuf;

/// The executable `name` in `$CONFORMANCE_VENV/bin`, or `None` (after printing why) when the
/// venv or the tool is missing and `REQUIRE_CONFORMANCE` is not set.
pub fn python_tool(name: &str) -> Option<PathBuf> {
    let required = std::env::var("REQUIRE_CONFORMANCE").is_ok_and(|v| !v.is_empty() && v != "0");
    let found = std::env::var_os("CONFORMANCE_VENV")
        .map(|venv| PathBuf::from(venv).join("bin").join(name))
        .filter(|path| path.is_file());
    if found.is_none() {
        assert!(
            !required,
            "REQUIRE_CONFORMANCE is set but `{name}` is not in $CONFORMANCE_VENV/bin \
             (create it: python3 -m venv $V && $V/bin/pip install -r .ci/python-requirements.txt)"
        );
        println!("conformance tests skipped: no {name} in $CONFORMANCE_VENV/bin");
    }
    found
}
