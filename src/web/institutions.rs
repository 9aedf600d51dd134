//! `/institutions/{id}`: one institution and what it does in the plan.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use crate::app::AppState;
use crate::error::AppError;
use crate::http::negotiate::LangContext;
use crate::models::institutions::{self, Subject};
use crate::web::i18n::{Msg, code_label, t};
use crate::web::layout::{Citations, Page, provenance_mark, text, unknown};
use crate::web::render_page;

pub async fn institution(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let id = id.into_inner();
    render_page(req, state, Some(&[]), |ctx, state| async move {
        let lang = ctx.lang;
        let wanted = id.clone();
        let (found, _) = state.read_plan(None, move |conn| institutions::find(conn, &wanted, true)).await?;
        let i = found.ok_or_else(|| AppError::NotFound(format!("no institution {id:?}")))?;
        let pick = LangContext::new(lang);
        let involvements = i.involvements.as_deref().unwrap_or_default();
        let cites = Citations::new(i.sources.iter().chain(involvements.iter().flat_map(|v| &v.sources)));
        let name = pick.pick(&i.texts, "name");
        let title = name.as_ref().map_or_else(|| i.row.id.clone(), |n| n.value.clone());
        let body = html! {
            article {
                p.eyebrow { a href=(ctx.href("/")) { (t(lang, Msg::NavPlan)) } " › " (t(lang, Msg::Institution)) }
                h1 { (text(lang, &name)) }
                (cites.cite_all(lang, &i.sources))
                dl.facts {
                    @if let Some(short) = pick.pick(&i.texts, "short_name") {
                        dt { (t(lang, Msg::ShortName)) }
                        dd { (text(lang, &Some(short))) }
                    }
                    dt { (t(lang, Msg::Kind)) }
                    dd { (code_label(lang, &i.row.kind)) (provenance_mark(lang, &i.fields, "kind", &cites)) }
                    dt { (t(lang, Msg::Homepage)) }
                    dd { @match &i.row.homepage { Some(url) => a href=(url) { (url) }, None => (unknown(lang)) } }
                    dt { (t(lang, Msg::Edrpou)) }
                    dd { @match &i.row.edrpou { Some(code) => (code), None => (unknown(lang)) } }
                    @if let Some(parent) = &i.row.parent_id {
                        dt { (t(lang, Msg::Institution)) " ↑" }
                        dd { a href=(ctx.href(&format!("/institutions/{parent}"))) { (parent) } }
                    }
                }
                section aria-labelledby="involvement-heading" {
                    h2 #involvement-heading { (t(lang, Msg::Involvement)) }
                    @if involvements.is_empty() { p { (unknown(lang)) } }
                    ul {
                        @for v in involvements {
                            li {
                                (code_label(lang, &v.row.role)) (provenance_mark(lang, &v.fields, "role", &cites)) " — "
                                @match v.row.subject() {
                                    Some(Subject::Commitment(c)) => a href=(ctx.href(&format!("/commitments/{c}"))) { (t(lang, Msg::Commitment)) " " (c) },
                                    Some(Subject::Milestone(m)) => { (t(lang, Msg::Milestone)) " " code { (m) } }
                                    _ => a href=(ctx.href("/")) { (t(lang, Msg::InThePlan)) },
                                }
                                @if let Some(label) = &v.row.source_label { " (" (label) ")" }
                                (cites.cite_all(lang, &v.sources))
                            }
                        }
                    }
                }
                (cites.section(lang))
            }
        };
        Ok(Page {
            title,
            api: format!("/api/v1/institutions/{}?expand=involvements&lang={lang}", i.row.id),
            body,
            map: false,
        })
    })
    .await
}
