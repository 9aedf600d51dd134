//! Keyset paging for the plan collections, which all page by their text `id`: count the records
//! matching the filters, load one page after the cursor's key (plus one row that only says
//! another page follows), then complete the rows into records.

use diesel::dsl::{AsSelect, CountStar, Eq, Gt, Select, count_star};
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::query_builder::QueryId;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods;
use diesel::sql_types::SqlType;

use crate::db::{DbConn, MultiBackend};
use crate::models::{Page, PageRequest};

/// One page of the records `filtered` matches, in `id` order. `filtered` builds the (boxed)
/// query of the filters, once to count and once to load; `key` is a row's id; `assemble` turns
/// rows into records (texts, sources, embedded lists).
pub(crate) fn page<Query, Id, Row, Item>(
    conn: &mut DbConn,
    filtered: impl Fn() -> Query,
    id: Id,
    request: &PageRequest,
    key: impl Fn(&Row) -> String,
    assemble: impl FnOnce(&mut DbConn, Vec<Row>) -> QueryResult<Vec<Item>>,
) -> QueryResult<Page<Item>>
where
    Id: ExpressionMethods + Copy,
    Id::SqlType: SqlType,
    String: AsExpression<Id::SqlType>,
    Row: Selectable<MultiBackend>,
    Row::SelectExpression: QueryId,
    Query: methods::FilterDsl<Gt<Id, String>, Output = Query>
        + methods::OrderDsl<Id, Output = Query>
        + methods::LimitDsl<Output = Query>
        + methods::SelectDsl<CountStar>
        + methods::SelectDsl<AsSelect<Row, MultiBackend>>,
    Select<Query, CountStar>: for<'q> LoadQuery<'q, DbConn, i64>,
    Select<Query, AsSelect<Row, MultiBackend>>: for<'q> LoadQuery<'q, DbConn, Row>,
{
    let total = methods::SelectDsl::select(filtered(), count_star()).get_result(conn)?;
    let mut query = filtered();
    if let Some(after) = &request.after {
        query = query.filter(id.gt(after.clone()));
    }
    let rows = query
        .order(id)
        .limit(i64::from(request.limit) + 1)
        .select(Row::as_select())
        .load(conn)?;
    let page = Page::from_overfetch(rows, request.limit, total, key);
    Ok(Page {
        items: assemble(conn, page.items)?,
        next_after: page.next_after,
        total: page.total,
    })
}

/// The record whose `id` is `key`, completed by `assemble`; `None` when there is none.
pub(crate) fn find<Query, Id, Row, Item>(
    conn: &mut DbConn,
    query: Query,
    id: Id,
    key: &str,
    assemble: impl FnOnce(&mut DbConn, Vec<Row>) -> QueryResult<Vec<Item>>,
) -> QueryResult<Option<Item>>
where
    Id: ExpressionMethods,
    Id::SqlType: SqlType,
    String: AsExpression<Id::SqlType>,
    Row: Selectable<MultiBackend>,
    Row::SelectExpression: QueryId,
    Query: methods::FilterDsl<Eq<Id, String>, Output = Query>
        + methods::LimitDsl<Output = Query>
        + methods::SelectDsl<AsSelect<Row, MultiBackend>>,
    Select<Query, AsSelect<Row, MultiBackend>>: for<'q> LoadQuery<'q, DbConn, Row>,
{
    let rows = query
        .filter(id.eq(key.to_owned()))
        .limit(1)
        .select(Row::as_select())
        .load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(assemble(conn, rows)?.pop())
}
