//! `/commitments/{id}`: one commitment — its texts, OGP values, progress, milestones,
//! institutions, assessments and progress reports, every fact with its source.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use crate::app::AppState;
use crate::error::AppError;
use crate::http::negotiate::LangContext;
use crate::models::commitments::{self, CommitmentExpand};
use crate::web::i18n::{Msg, code_label, t};
use crate::web::layout::{
    Citations, Page, paragraphs, progress_update, provenance_mark, text, unknown,
};
use crate::web::{progress as bars, render_page};

pub async fn commitment(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let id = id.into_inner();
    render_page(req, state, Some(&[]), |ctx, state| async move {
        let lang = ctx.lang;
        let wanted = id.clone();
        let (found, _) = state.read_plan(None, move |conn| {
            commitments::find(
                conn,
                &wanted,
                CommitmentExpand {
                    milestones: true,
                    institutions: true,
                    assessments: true,
                    progress_updates: true,
                },
            )
        })
        .await?;
        let c = found.ok_or_else(|| AppError::NotFound(format!("no commitment {id:?}")))?;
        let pick = LangContext::new(lang);
        let milestones = c.milestones.as_deref().unwrap_or_default();
        let involvements = c.involvements.as_deref().unwrap_or_default();
        let assessments = c.assessments.as_deref().unwrap_or_default();
        let updates = c.progress_updates.as_deref().unwrap_or_default();
        let cites = Citations::new(
            c.sources
                .iter()
                .chain(milestones.iter().flat_map(|m| m.sources.iter().chain(&m.status_source)))
                .chain(involvements.iter().flat_map(|i| &i.sources))
                .chain(assessments.iter().flat_map(|a| &a.sources))
                .chain(updates.iter().flat_map(|u| &u.sources)),
        );
        let heading = format!("{} {}", t(lang, Msg::Commitment), c.row.number);
        let body = html! {
            article {
                p.eyebrow { a href=(ctx.href("/")) { (t(lang, Msg::NavPlan)) } " › " (heading) }
                h1 { (text(lang, &pick.pick(&c.texts, "title"))) }
                (cites.cite_all(lang, &c.sources))
                dl.facts {
                    dt { (t(lang, Msg::Commitment)) }
                    dd {
                        (c.row.number)
                        @if let Some(ogp) = &c.row.ogp_id {
                            " · OGP "
                            @match &c.row.ogp_url {
                                Some(url) => a href=(url) { (ogp) },
                                None => (ogp),
                            }
                        }
                    }
                    dt { (t(lang, Msg::Period)) }
                    dd {
                        @match (&c.row.start_date, &c.row.end_date) {
                            (None, None) => (unknown(lang)),
                            (from, to) => {
                                @match from { Some(d) => (d), None => (unknown(lang)) }
                                " — "
                                @match to { Some(d) => (d), None => (unknown(lang)) }
                                (cites.cite_all(lang, &c.sources))
                            }
                        }
                    }
                    dt { (t(lang, Msg::OgpValues)) }
                    dd {
                        @if c.ogp_values.is_empty() { (unknown(lang)) }
                        ul.inline { @for v in &c.ogp_values { li { (code_label(lang, v.as_str())) } } }
                        (provenance_mark(lang, &c.fields, "ogp_values", &cites))
                    }
                    dt { (t(lang, Msg::Progress)) }
                    dd { (bars::bar(lang, &c.progress)) }
                }
                @for (field, label) in [("problem", Msg::Problem), ("action", Msg::Action), ("ambition", Msg::Ambition), ("strategic_goal", Msg::StrategicGoal)] {
                    section.text-field {
                        h2 { (t(lang, label)) }
                        (paragraphs(lang, &pick.pick(&c.texts, field), &cites))
                    }
                }
                section aria-labelledby="milestones-heading" {
                    h2 #milestones-heading { (t(lang, Msg::Milestones)) }
                    div.table-scroll role="region" aria-labelledby="milestones-heading" tabindex="0" {
                        table {
                            thead { tr {
                                th scope="col" { "#" }
                                th scope="col" { (t(lang, Msg::Milestone)) }
                                th scope="col" { (t(lang, Msg::Status)) }
                                th scope="col" { (t(lang, Msg::Due)) }
                            } }
                            tbody {
                                @for m in milestones {
                                    tr {
                                        td { (m.row.seq) }
                                        td { (text(lang, &pick.pick(&m.texts, "title"))) (cites.cite_all(lang, &m.sources)) }
                                        td {
                                            @match &m.row.status {
                                                Some(s) => span class={ "status " (s) } { (code_label(lang, s)) },
                                                None => span.status.unknown { (t(lang, Msg::StatusUnknown)) },
                                            }
                                            (cites.cite(lang, m.row.status_source_id.as_deref()))
                                        }
                                        td {
                                            @match (&m.row.due_date, &m.row.due_earliest, &m.row.due_latest) {
                                                (Some(d), _, _) => (d),
                                                (None, Some(a), Some(b)) => { (a) " – " (b) }
                                                _ => (unknown(lang)),
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                section aria-labelledby="institutions-heading" {
                    h2 #institutions-heading { (t(lang, Msg::Institutions)) }
                    @if involvements.is_empty() { p { (unknown(lang)) } }
                    ul {
                        @for i in involvements {
                            li {
                                a href=(ctx.href(&format!("/institutions/{}", i.row.institution_id))) {
                                    (text(lang, &pick.pick(&i.institution_texts, "name")))
                                }
                                " — " (code_label(lang, &i.row.role)) (provenance_mark(lang, &i.fields, "role", &cites))
                                (cites.cite_all(lang, &i.sources))
                            }
                        }
                    }
                }
                @if !updates.is_empty() {
                    section aria-labelledby="updates-heading" {
                        h2 #updates-heading { (t(lang, Msg::ProgressUpdates)) }
                        ul {
                            @for u in updates {
                                li {
                                    (progress_update(lang, &pick, u, &cites))
                                }
                            }
                        }
                    }
                }
                @if !assessments.is_empty() {
                    section aria-labelledby="assessments-heading" {
                        h2 #assessments-heading { (t(lang, Msg::Assessments)) }
                        ul {
                            @for a in assessments {
                                li {
                                    strong { (a.row.evaluator.clone().unwrap_or_else(|| a.row.kind.clone())) }
                                    @if let Some(d) = &a.row.published { " (" time { (d) } ")" }
                                    @if let Some(summary) = pick.pick(&a.texts, "summary") { ": " (text(lang, &Some(summary))) }
                                    @if let Some(url) = &a.row.url { " " a href=(url) { (t(lang, Msg::Source)) } }
                                    (cites.cite_all(lang, &a.sources))
                                }
                            }
                        }
                    }
                }
                (cites.section(lang))
            }
        };
        Ok(Page {
            title: heading,
            api: format!(
                "/api/v1/commitments/{}?expand=milestones,institutions,assessments,progress_updates&lang={lang}",
                c.row.id
            ),
            body,
            map: false,
        })
    })
    .await
}
