//! `/`: the plan at a glance — period, lead institutions, co-creation, each commitment's
//! progress and the timeline.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use crate::app::AppState;
use crate::error::AppError;
use crate::http::negotiate::LangContext;
use crate::models::PageRequest;
use crate::models::commitments::{self, Commitment, CommitmentExpand};
use crate::models::lang::Lang;
use crate::models::plans::{self, Plan, PlanExpand, PlanFilter};
use crate::models::progress::{self, ProgressUpdate, UpdatesOf};
use crate::models::vocab::Role;
use crate::web::i18n::{Msg, code_label, t};
use crate::web::layout::{Citations, Page, PageContext, paragraphs, text, unknown};
use crate::web::timeline::{Lane, Mark, MarkKind};
use crate::web::{progress as bars, render_page, timeline};

/// Everything the home page shows, read in one snapshot of the plan.
struct PlanView {
    plan: Plan,
    commitments: Vec<Commitment>,
    /// Progress updates of milestones (commitment and plan ones come with their records).
    milestone_updates: Vec<ProgressUpdate>,
}

pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render_page(req, state, Some(&[]), |ctx, state| async move {
        let (plans, _) = state
            .read_plan(None, |conn| -> diesel::QueryResult<Vec<PlanView>> {
                let plans = plans::list(
                    conn,
                    &PlanFilter::default(),
                    &PageRequest {
                        after: None,
                        limit: 100,
                    },
                    PlanExpand {
                        commitments: false,
                        institutions: true,
                        progress_updates: true,
                    },
                )?
                .items;
                let mut views = Vec::new();
                for plan in plans {
                    let commitments = commitments::of_plans(
                        conn,
                        std::slice::from_ref(&plan.row.id),
                        CommitmentExpand {
                            milestones: true,
                            institutions: true,
                            assessments: true,
                            progress_updates: true,
                        },
                    )?;
                    let milestone_ids: Vec<String> = commitments
                        .iter()
                        .flat_map(|c| c.milestones.iter().flatten())
                        .map(|m| m.row.id.clone())
                        .collect();
                    let milestone_updates =
                        progress::updates(conn, UpdatesOf::Milestones(&milestone_ids))?;
                    views.push(PlanView {
                        plan,
                        commitments,
                        milestone_updates,
                    });
                }
                Ok(views)
            })
            .await?;
        let Some(first) = plans.first() else {
            return Err(AppError::NotFound("no action plan is loaded".into()));
        };
        let ctx_lang = LangContext::new(ctx.lang);
        let title = ctx_lang
            .pick(&first.plan.texts, "title")
            .map_or_else(|| t(ctx.lang, Msg::NavPlan).to_owned(), |t| t.value);
        let api = format!(
            "/api/v1/plans/{}?expand=commitments,institutions,progress_updates&lang={}",
            first.plan.row.id, ctx.lang
        );
        let today = chrono::Utc::now().date_naive();
        let body = html! {
            @for view in &plans { (plan_section(&ctx, view, today)) }
        };
        Ok(Page {
            title,
            api,
            body,
            map: false,
        })
    })
    .await
}

fn plan_section(ctx: &PageContext, view: &PlanView, today: chrono::NaiveDate) -> Markup {
    let lang = ctx.lang;
    let pick = LangContext::new(lang);
    let plan = &view.plan;
    let row = &plan.row;
    let leads: Vec<_> = plan
        .involvements
        .iter()
        .flatten()
        .filter(|i| i.row.role == Role::Lead.as_str())
        .collect();
    let cites = Citations::new(
        plan.sources
            .iter()
            .chain(plan.member.iter().flat_map(|m| &m.sources))
            .chain(leads.iter().flat_map(|i| &i.sources))
            .chain(plan.spaces.iter().flat_map(|s| &s.sources))
            .chain(plan.endorsements.iter().flat_map(|e| &e.sources))
            .chain(view.commitments.iter().flat_map(|c| &c.sources))
            .chain(
                plan.progress_updates
                    .iter()
                    .flatten()
                    .flat_map(|u| &u.sources),
            )
            .chain(
                view.commitments
                    .iter()
                    .flat_map(|c| c.progress_updates.iter().flatten())
                    .flat_map(|u| &u.sources),
            )
            .chain(view.milestone_updates.iter().flat_map(|u| &u.sources))
            .chain(
                view.commitments
                    .iter()
                    .flat_map(|c| c.assessments.iter().flatten())
                    .flat_map(|a| &a.sources),
            ),
    );
    let value = |v: Option<String>| match v {
        Some(v) => html! { (v) },
        None => unknown(lang),
    };
    html! {
        article.plan {
            h1 { (text(lang, &pick.pick(&plan.texts, "title"))) }
            @if let Some(member) = &plan.member {
                p.lead { (t(lang, Msg::Member)) ": " (text(lang, &pick.pick(&member.texts, "name"))) (cites.cite_all(lang, &member.sources)) }
            }
            dl.facts {
                dt { (t(lang, Msg::PlanPeriod)) }
                dd {
                    (t(lang, Msg::Submitted)) " " (value(row.date_submitted.clone()))
                    " — " (t(lang, Msg::Ends)) " " (value(row.end_date.clone()))
                    (cites.cite_all(lang, &plan.sources))
                }
                dt { (t(lang, Msg::LocallyApproved)) }
                dd { (value(row.locally_approved_period.clone())) (cites.cite_all(lang, &plan.sources)) }
                dt { (t(lang, Msg::LeadInstitutions)) }
                dd {
                    @if leads.is_empty() { (unknown(lang)) }
                    ul.inline {
                        @for lead in &leads {
                            li {
                                a href=(ctx.href(&format!("/institutions/{}", lead.row.institution_id))) {
                                    (text(lang, &pick.pick(&lead.institution_texts, "name")))
                                }
                                (cites.cite_all(lang, &lead.sources))
                            }
                        }
                    }
                }
            }
            section aria-labelledby="cocreation-heading" {
                h2 #cocreation-heading { (t(lang, Msg::CoCreation)) }
                dl.facts {
                    dt { (t(lang, Msg::ParticipantGroups)) }
                    dd { (value(row.participant_groups.map(|n| n.to_string()))) (cites.cite_all(lang, &plan.sources)) }
                    dt { (t(lang, Msg::PublicMeetings)) }
                    dd { (value(row.public_meetings.map(|n| n.to_string()))) (cites.cite_all(lang, &plan.sources)) }
                    dt { (t(lang, Msg::Invitations)) }
                    dd {
                        @if let Some(q) = &row.invitations_qualifier { (code_label(lang, q)) " " }
                        (value(row.invitations.map(|n| n.to_string())))
                        (cites.cite_all(lang, &plan.sources))
                    }
                    dt { (t(lang, Msg::Spaces)) }
                    dd {
                        @if plan.spaces.is_empty() { (unknown(lang)) }
                        ul {
                            @for space in &plan.spaces {
                                li { (text(lang, &pick.pick(&space.texts, "name"))) (cites.cite_all(lang, &space.sources)) }
                            }
                        }
                    }
                    dt { (t(lang, Msg::Endorsements)) }
                    dd {
                        @if plan.endorsements.is_empty() { (unknown(lang)) }
                        ul {
                            @for e in &plan.endorsements {
                                li {
                                    (e.row.endorser)
                                    @if let Some(a) = pick.pick(&e.texts, "affiliation") { ", " (text(lang, &Some(a))) }
                                    (cites.cite_all(lang, &e.sources))
                                }
                            }
                        }
                    }
                }
                details {
                    summary { (t(lang, Msg::Description)) }
                    (paragraphs(lang, &pick.pick(&plan.texts, "description"), &cites))
                }
            }
            section aria-labelledby="progress-heading" {
                h2 #progress-heading { (t(lang, Msg::ProgressOfMilestones)) }
                ol.commitments {
                    @for c in &view.commitments {
                        li.commitment {
                            h3 {
                                a href=(ctx.href(&format!("/commitments/{}", c.row.id))) {
                                    (t(lang, Msg::Commitment)) " " (c.row.number)
                                }
                            }
                            p.commitment-title { (text(lang, &pick.pick(&c.texts, "title"))) (cites.cite_all(lang, &c.sources)) }
                            (bars::bar(lang, &c.progress))
                        }
                    }
                }
            }
            (timeline_section(ctx, view, today))
            (cites.section(lang))
        }
    }
}

/// The drawing and the same events as a list (the drawing's text alternative).
fn timeline_section(ctx: &PageContext, view: &PlanView, today: chrono::NaiveDate) -> Markup {
    let lang = ctx.lang;
    let pick = LangContext::new(lang);
    let claim = |u: &ProgressUpdate| {
        pick.pick(&u.texts, "claim")
            .map_or_else(|| t(lang, Msg::ProgressReport).to_owned(), |c| c.value)
    };
    let plan = &view.plan;
    let mut plan_lane = Lane {
        label: t(lang, Msg::PlanShort).to_owned(),
        title: plan_title(lang, plan),
        marks: Vec::new(),
    };
    if let (Some(from), Some(to)) = (&plan.row.date_submitted, &plan.row.end_date) {
        plan_lane.marks.extend(Mark::between(
            MarkKind::Period,
            from,
            to,
            t(lang, Msg::PlanPeriod).to_owned(),
        ));
    }
    let mut undated: Vec<(String, String)> = Vec::new();
    for u in plan.progress_updates.iter().flatten() {
        match u
            .row
            .timeline_date()
            .and_then(|d| Mark::on(MarkKind::Report, d, claim(u)))
        {
            Some(mark) => plan_lane.marks.push(mark),
            None => undated.push((t(lang, Msg::NavPlan).to_owned(), claim(u))),
        }
    }
    let mut lanes = vec![plan_lane];
    for c in &view.commitments {
        let label = format!("{} {}", t(lang, Msg::Commitment), c.row.number);
        let mut lane = Lane {
            label: format!("C{}", c.row.number),
            title: label.clone(),
            marks: Vec::new(),
        };
        if let (Some(from), Some(to)) = (&c.row.start_date, &c.row.end_date) {
            lane.marks.extend(Mark::between(
                MarkKind::Period,
                from,
                to,
                format!("{label}: {}", t(lang, Msg::Period)),
            ));
        }
        for m in c.milestones.iter().flatten() {
            let title = pick
                .pick(&m.texts, "title")
                .map_or_else(|| t(lang, Msg::Milestone).to_owned(), |x| x.value);
            let due = m
                .row
                .due_date
                .as_deref()
                .and_then(|d| Mark::on(MarkKind::Due, d, title.clone()))
                .or_else(|| match (&m.row.due_earliest, &m.row.due_latest) {
                    (Some(a), Some(b)) => Mark::between(MarkKind::Due, a, b, title.clone()),
                    _ => None,
                });
            match due {
                Some(mark) => lane.marks.push(mark),
                None => undated.push((
                    format!("{label} · {} {}", t(lang, Msg::Milestone), m.row.seq),
                    format!("{title} ({}: {})", t(lang, Msg::Due), t(lang, Msg::Unknown)),
                )),
            }
        }
        let updates =
            c.progress_updates
                .iter()
                .flatten()
                .chain(view.milestone_updates.iter().filter(|u| {
                    c.milestones
                        .iter()
                        .flatten()
                        .any(|m| u.row.milestone_id.as_deref() == Some(m.row.id.as_str()))
                }));
        for u in updates {
            match u
                .row
                .timeline_date()
                .and_then(|d| Mark::on(MarkKind::Report, d, claim(u)))
            {
                Some(mark) => lane.marks.push(mark),
                None => undated.push((label.clone(), claim(u))),
            }
        }
        for a in c.assessments.iter().flatten() {
            let name = format!(
                "{}: {}",
                t(lang, Msg::Assessment),
                a.row
                    .evaluator
                    .clone()
                    .unwrap_or_else(|| a.row.kind.clone())
            );
            match a
                .row
                .published
                .as_deref()
                .and_then(|d| Mark::on(MarkKind::Report, d, name.clone()))
            {
                Some(mark) => lane.marks.push(mark),
                None => undated.push((label.clone(), name)),
            }
        }
        lanes.push(lane);
    }
    let mut dated: Vec<(&Lane, &Mark)> = lanes
        .iter()
        .flat_map(|l| l.marks.iter().map(move |m| (l, m)))
        .collect();
    dated.sort_by_key(|(_, m)| (m.from, m.to));
    html! {
        section aria-labelledby="timeline-heading" {
            h2 #timeline-heading { (t(lang, Msg::Timeline)) }
            div.timeline { (timeline::svg(lang, &lanes, today)) }
            ul.timeline-legend aria-hidden="true" {
                li { span.swatch.period {} (t(lang, Msg::Period)) }
                li { span.swatch.due {} (t(lang, Msg::Due)) }
                li { span.swatch.report {} (t(lang, Msg::ProgressReport)) " / " (t(lang, Msg::Assessment)) }
                li { span.swatch.today {} (t(lang, Msg::Today)) }
            }
            details {
                summary { (t(lang, Msg::TimelineAsList)) }
                ol.timeline-list {
                    @for (lane, mark) in &dated {
                        li { time { (mark.when) } " — " (lane.title) ": " (mark.label) }
                    }
                }
                @if !undated.is_empty() {
                    h3 { (t(lang, Msg::UndatedEvents)) }
                    ul {
                        @for (lane, what) in &undated { li { (lane) ": " (what) } }
                    }
                }
            }
        }
    }
}

fn plan_title(lang: Lang, plan: &Plan) -> String {
    LangContext::new(lang)
        .pick(&plan.texts, "title")
        .map_or_else(|| plan.row.id.clone(), |t| t.value)
}
