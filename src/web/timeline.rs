//! The plan's timeline as an SVG drawing: one lane for the plan and one per commitment, periods
//! as bars, milestone due dates and dated reports as marks, today as a line. Dates known only to
//! the month or year are drawn as the span they cover, never as an invented day.

use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};

use crate::models::lang::Lang;
use crate::models::partial_date::PartialDate;
use crate::web::i18n::{Msg, t};

/// One row of the drawing.
pub struct Lane {
    /// Short label drawn at the left ("C1").
    pub label: String,
    /// Full label, for the tooltip and the list.
    pub title: String,
    pub marks: Vec<Mark>,
}

/// Something with a date on a lane.
pub struct Mark {
    pub kind: MarkKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The date as the source gives it (`2021-10`, `2022`).
    pub when: String,
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Period,
    Due,
    Report,
}

impl MarkKind {
    fn class(self) -> &'static str {
        match self {
            MarkKind::Period => "period",
            MarkKind::Due => "due",
            MarkKind::Report => "report",
        }
    }
}

impl Mark {
    /// A mark over a partial date (`2021`, `2021-10`, `2021-10-05`); `None` when unparsable.
    pub fn on(kind: MarkKind, date: &str, label: String) -> Option<Mark> {
        let parsed: PartialDate = date.parse().ok()?;
        Some(Mark {
            kind,
            from: parsed.earliest(),
            to: parsed.latest(),
            when: date.to_owned(),
            label,
        })
    }

    /// A period from the start of one partial date to the end of another.
    pub fn between(kind: MarkKind, from: &str, to: &str, label: String) -> Option<Mark> {
        let start: PartialDate = from.parse().ok()?;
        let end: PartialDate = to.parse().ok()?;
        (start.earliest() <= end.latest()).then(|| Mark {
            kind,
            from: start.earliest(),
            to: end.latest(),
            when: format!("{from} – {to}"),
            label,
        })
    }
}

const WIDTH: f64 = 800.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const AXIS: f64 = 26.0;
const LANE: f64 = 30.0;

/// The drawing, labelled by its title and description for assistive technology.
pub fn svg(lang: Lang, lanes: &[Lane], today: NaiveDate) -> Markup {
    let dates = lanes
        .iter()
        .flat_map(|l| &l.marks)
        .flat_map(|m| [m.from, m.to])
        .chain([today]);
    let first = dates.clone().min().unwrap_or(today);
    let last = dates.max().unwrap_or(today);
    let start = NaiveDate::from_ymd_opt(first.year(), 1, 1).unwrap_or(first);
    let end = NaiveDate::from_ymd_opt(last.year() + 1, 1, 1).unwrap_or(last);
    let span = (end - start).num_days().max(1) as f64;
    let x = |d: NaiveDate| LEFT + (d - start).num_days() as f64 / span * (WIDTH - LEFT - RIGHT);
    // Room below the lanes for the label of today's line.
    let lanes_end = AXIS + LANE * lanes.len() as f64;
    let height = lanes_end + 22.0;
    let years: Vec<i32> = (start.year()..=end.year()).collect();
    let fmt = |v: f64| format!("{v:.1}");
    html! {
        svg #timeline viewBox=(format!("0 0 {WIDTH} {height}")) width="100%" role="img"
            aria-labelledby="timeline-title timeline-desc" focusable="false" {
            title #timeline-title { (t(lang, Msg::Timeline)) }
            desc #timeline-desc { (t(lang, Msg::TimelineDescription)) }
            @for year in &years {
                @if let Some(jan) = NaiveDate::from_ymd_opt(*year, 1, 1) {
                    line.tick x1=(fmt(x(jan))) x2=(fmt(x(jan))) y1=(fmt(AXIS - 6.0)) y2=(fmt(lanes_end)) {}
                    @if *year < end.year() {
                        text.year x=(fmt(x(jan) + 4.0)) y="14" { (year) }
                    }
                }
            }
            @for (i, lane) in lanes.iter().enumerate() {
                @let y = AXIS + LANE * i as f64;
                @let middle = y + LANE / 2.0;
                g.lane {
                    title { (lane.title) }
                    line.lane-line x1=(fmt(LEFT)) x2=(fmt(WIDTH - RIGHT)) y1=(fmt(middle)) y2=(fmt(middle)) {}
                    text.lane-label x="4" y=(fmt(middle + 4.0)) { (lane.label) }
                }
                @for mark in &lane.marks {
                    @let (x1, x2) = (x(mark.from), x(mark.to + chrono::Duration::days(1)));
                    g class={ "mark " (mark.kind.class()) } {
                        title { (mark.label) " (" (mark.when) ")" }
                        @match mark.kind {
                            MarkKind::Period => {
                                rect x=(fmt(x1)) y=(fmt(middle - 5.0)) width=(fmt((x2 - x1).max(2.0))) height="10" rx="2" {}
                            }
                            MarkKind::Due => {
                                rect.span x=(fmt(x1)) y=(fmt(middle - 2.0)) width=(fmt((x2 - x1).max(1.0))) height="4" {}
                                @let cx = x2.max(x1 + 1.0);
                                polygon points=(format!("{},{} {},{} {},{} {},{}",
                                    fmt(cx), fmt(middle - 7.0), fmt(cx + 7.0), fmt(middle),
                                    fmt(cx), fmt(middle + 7.0), fmt(cx - 7.0), fmt(middle))) {}
                            }
                            MarkKind::Report => {
                                @if x2 - x1 > 3.0 {
                                    rect.span x=(fmt(x1)) y=(fmt(middle - 2.0)) width=(fmt(x2 - x1)) height="4" {}
                                }
                                circle cx=(fmt((x1 + x2) / 2.0)) cy=(fmt(middle)) r="5" {}
                            }
                        }
                    }
                }
            }
            @let today_x = x(today);
            line.today x1=(fmt(today_x)) x2=(fmt(today_x)) y1=(fmt(AXIS - 8.0)) y2=(fmt(lanes_end + 4.0)) {}
            text.today-label x=(fmt(today_x - 4.0)) y=(fmt(lanes_end + 16.0)) text-anchor="end" {
                (t(lang, Msg::Today)) " " (today.format("%Y-%m-%d"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_drawn_as_the_whole_month_and_today_is_marked() {
        let mark = Mark::on(MarkKind::Due, "2022-06", "m".into()).unwrap();
        assert_eq!(mark.from, NaiveDate::from_ymd_opt(2022, 6, 1).unwrap());
        assert_eq!(mark.to, NaiveDate::from_ymd_opt(2022, 6, 30).unwrap());
        let lanes = [Lane {
            label: "C1".into(),
            title: "Commitment 1".into(),
            marks: vec![mark],
        }];
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let drawn = svg(Lang::En, &lanes, today).into_string();
        assert!(drawn.contains("Today 2026-11-27"), "{drawn}");
        // Years from the first mark to the year after today.
        assert!(
            drawn.contains(">2022<") && drawn.contains(">2026<"),
            "{drawn}"
        );
        assert!(
            !drawn.contains(">2027<"),
            "the closing year is a tick, not a label"
        );
        assert!(Mark::between(MarkKind::Period, "2023", "2022", "x".into()).is_none());
    }
}
