//! A commitment's (or the plan's) milestone progress as a stacked bar with its numbers in words,
//! so nothing depends on telling colours apart, and unknowns are shown, not hidden.

use maud::{Markup, html};

use crate::models::lang::Lang;
use crate::models::progress::Progress;
use crate::web::i18n::{Msg, t};

/// The bar's segments: share, class, label.
fn segments(p: &Progress) -> [(i64, &'static str, Msg); 4] {
    [
        (p.complete, "complete", Msg::StatusComplete),
        (p.in_progress, "in-progress", Msg::StatusInProgress),
        (p.not_started, "not-started", Msg::StatusNotStarted),
        (p.unknown, "unknown", Msg::StatusUnknown),
    ]
}

/// "3 milestones: 1 complete, 0 in progress, 0 not started, 2 status unknown".
pub fn summary(lang: Lang, p: &Progress) -> String {
    if p.milestones_total == 0 {
        return t(lang, Msg::NoMilestones).to_owned();
    }
    let parts: Vec<String> = segments(p)
        .iter()
        .map(|(n, _, msg)| format!("{n} {}", t(lang, *msg)))
        .collect();
    format!(
        "{} {}: {}",
        p.milestones_total,
        t(lang, Msg::Milestones).to_lowercase(),
        parts.join(", ")
    )
}

/// The bar (an SVG drawing, described by the summary next to it).
pub fn bar(lang: Lang, p: &Progress) -> Markup {
    let total = p.milestones_total.max(1) as f64;
    let mut x = 0.0;
    let mut drawn = Vec::new();
    for (n, class, _) in segments(p) {
        if n > 0 {
            let width = n as f64 / total * 100.0;
            drawn.push((class, format!("{x:.3}"), format!("{width:.3}")));
            x += width;
        }
    }
    let text = summary(lang, p);
    html! {
        div.progress {
            svg.bar viewBox="0 0 100 4" preserveAspectRatio="none" width="100%" height="16"
                role="img" aria-label=(text) focusable="false" {
                rect.track x="0" y="0" width="100" height="4" {}
                @for (class, x, width) in &drawn {
                    rect class=(class) x=(x) y="0" width=(width) height="4" {}
                }
            }
            p.progress-summary {
                @for (n, class, msg) in segments(p) {
                    span.legend {
                        span class={ "swatch " (class) } aria-hidden="true" {}
                        (n) " " (t(lang, msg))
                    }
                }
            }
        }
    }
}
