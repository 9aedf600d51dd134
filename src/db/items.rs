//! Registry item tables: one table per registry with a typed column per declared field, so every
//! filter and sort can use real columns and indexes. Their SQL is built here, the only place that
//! knows the two dialects (placeholders, column types, collation, substring functions).
//!
//! Every table has the same fixed columns — `seq` (the row's place in its release, in the order of
//! the publisher's file: the default key; see `item_order`), `item_id`, `data` (the item's
//! properties as a JSON object, served as-is), the geometry and its representative point and
//! bounding box, `search` (normalised text for `q=`), and the release range a row version is valid
//! in (`valid_from` ≤ n < `valid_to`, open when `valid_to` is null) — followed by `f_<field>`
//! columns. A row is never changed after it is written except to close its range, so every
//! release stays readable: an import writes only what changed (and what the publisher moved).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text};

use crate::db::{Backend, DbConn, MultiBackend, item_order};

/// Storage type of a field column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    BigInt,
    Double,
    Bool,
}

/// A value bound into a query.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null(ColumnType),
    Text(String),
    BigInt(i64),
    Double(f64),
    Bool(bool),
}

#[derive(Debug, Clone)]
pub struct Column {
    /// The field name; the column is `f_<name>`.
    pub field: String,
    pub kind: ColumnType,
}

/// Layout of one registry's item table.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub table: String,
    pub columns: Vec<Column>,
    /// Field-name lists to index together (each index ends with `seq` for keyset pages).
    pub indexes: Vec<Vec<String>>,
}

/// The table name for a registry slug (`[a-z0-9-]+`, at most 48 characters).
pub fn table_name(slug: &str) -> String {
    format!("items_{}", slug.replace('-', "_"))
}

fn quote(ident: &str) -> String {
    // Identifiers come from validated slugs and field names; quoting is belt and braces.
    format!("\"{}\"", ident.replace('"', ""))
}

fn field_column(field: &str) -> String {
    quote(&format!("f_{field}"))
}

fn column_sql(backend: Backend, kind: ColumnType) -> &'static str {
    match (backend, kind) {
        // "C" collation: byte order, the same order SQLite uses, so sorts and keyset pages agree.
        (Backend::Postgres, ColumnType::Text) => "TEXT COLLATE \"C\"",
        (Backend::Postgres, ColumnType::BigInt) => "BIGINT",
        (Backend::Postgres, ColumnType::Double) => "DOUBLE PRECISION",
        (Backend::Postgres, ColumnType::Bool) => "BOOLEAN",
        (Backend::Sqlite, ColumnType::Text) => "TEXT",
        (Backend::Sqlite, ColumnType::BigInt) => "INTEGER",
        (Backend::Sqlite, ColumnType::Double) => "REAL",
        (Backend::Sqlite, ColumnType::Bool) => "BOOLEAN",
    }
}

/// `, "f_<field>" <type>` for every field column, in order.
fn field_columns_ddl(backend: Backend, spec: &TableSpec) -> String {
    spec.columns
        .iter()
        .map(|c| {
            format!(
                ", {} {}",
                field_column(&c.field),
                column_sql(backend, c.kind)
            )
        })
        .collect()
}

/// `CREATE TABLE` of an item table named `name` with `spec`'s columns. A row version is keyed by
/// `(seq, valid_from)`: `seq` is unique among the rows of one release, and a row's next version
/// may keep its `seq` (see `item_order`).
fn table_ddl(backend: Backend, spec: &TableSpec, name: &str) -> String {
    let text = column_sql(backend, ColumnType::Text);
    let real = column_sql(backend, ColumnType::Double);
    let mut ddl = format!(
        "CREATE TABLE {t} (seq BIGINT NOT NULL, item_id {text} NOT NULL, data TEXT NOT NULL, \
         geometry TEXT, lon {real}, lat {real}, min_lon {real}, min_lat {real}, max_lon {real}, \
         max_lat {real}, search TEXT, valid_from BIGINT NOT NULL, valid_to BIGINT",
        t = quote(name)
    );
    ddl.push_str(&field_columns_ddl(backend, spec));
    ddl.push_str(", PRIMARY KEY (seq, valid_from))");
    ddl
}

/// Creates the item table and its indexes (inside the caller's transaction).
pub fn create_table(conn: &mut DbConn, spec: &TableSpec) -> QueryResult<()> {
    conn.batch_execute(&table_ddl(conn.backend(), spec, &spec.table))?;
    create_indexes(conn, spec)
}

fn create_indexes(conn: &mut DbConn, spec: &TableSpec) -> QueryResult<()> {
    // One current version per id; every version found by (id, release).
    conn.batch_execute(&format!(
        "CREATE UNIQUE INDEX {} ON {t} (item_id) WHERE valid_to IS NULL; \
         CREATE INDEX {} ON {t} (item_id, valid_from)",
        quote(&format!("{}_current", spec.table)),
        quote(&format!("{}_versions", spec.table)),
        t = quote(&spec.table)
    ))?;
    for (n, fields) in spec.indexes.iter().enumerate() {
        let cols: Vec<String> = fields.iter().map(|f| field_column(f)).collect();
        conn.batch_execute(&format!(
            "CREATE INDEX {} ON {} ({}, seq)",
            quote(&format!("{}_ix{n}", spec.table)),
            quote(&spec.table),
            cols.join(", ")
        ))?;
    }
    ensure_leading_field_indexes(conn, spec)?;
    conn.batch_execute(&format!(
        "CREATE INDEX {} ON {} (min_lon, min_lat)",
        quote(&format!("{}_bbox", spec.table)),
        quote(&spec.table)
    ))?;
    Ok(())
}

/// Tables made before a row's next version could keep its `seq` have `seq` alone as their
/// primary key; this gives them the `(seq, valid_from)` key, keeping every row and `seq` as they
/// are (PostgreSQL: the key is swapped; SQLite, which cannot alter a key: the table is copied
/// under the new one). Idempotent; runs in the caller's transaction before an import publishes.
/// Returns whether the table changed.
pub fn ensure_release_key(conn: &mut DbConn, spec: &TableSpec) -> QueryResult<bool> {
    let literal = spec.table.replace('\'', "''");
    let t = quote(&spec.table);
    match conn.backend() {
        Backend::Sqlite => {
            let probe = format!(
                "SELECT count(*) AS n FROM pragma_table_info('{literal}') \
                 WHERE name = 'valid_from' AND pk > 0"
            );
            if diesel::sql_query(probe).get_result::<CountRow>(conn)?.n > 0 {
                return Ok(false);
            }
            let copy = format!("{}__rekeyed", spec.table);
            let mut columns: Vec<String> = [
                "seq",
                "item_id",
                "data",
                "geometry",
                "lon",
                "lat",
                "min_lon",
                "min_lat",
                "max_lon",
                "max_lat",
                "search",
                "valid_from",
                "valid_to",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect();
            columns.extend(spec.columns.iter().map(|c| field_column(&c.field)));
            let list = columns.join(", ");
            conn.batch_execute(&format!(
                "{ddl}; INSERT INTO {c} ({list}) SELECT {list} FROM {t} ORDER BY seq; \
                 DROP TABLE {t}; ALTER TABLE {c} RENAME TO {t}",
                ddl = table_ddl(Backend::Sqlite, spec, &copy),
                c = quote(&copy),
            ))?;
            create_indexes(conn, spec)?;
            analyze(conn, &spec.table)?;
            Ok(true)
        }
        Backend::Postgres => {
            #[derive(QueryableByName)]
            struct Key {
                #[diesel(sql_type = Text)]
                name: String,
                #[diesel(sql_type = BigInt)]
                columns: i64,
            }
            let key: Option<Key> = diesel::sql_query(format!(
                "SELECT c.conname::text AS name, cardinality(c.conkey)::bigint AS columns \
                 FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid \
                 JOIN pg_namespace n ON n.oid = r.relnamespace \
                 WHERE n.nspname = current_schema() AND r.relname = '{literal}' \
                 AND c.contype = 'p'"
            ))
            .get_result(conn)
            .optional()?;
            match key {
                Some(key) if key.columns == 1 => {
                    conn.batch_execute(&format!(
                        "ALTER TABLE {t} DROP CONSTRAINT {}, ADD PRIMARY KEY (seq, valid_from)",
                        quote(&key.name)
                    ))?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        }
    }
}

/// For each composite index `(a, b, …, seq)`, also `(a, seq)`: a page filtered by `a = x` and a
/// range or another field then walks `seq` order and stops at the page's end. With only the
/// composite, `a = x AND b > y` has to collect and sort every match (SQLite: a temporary B-tree
/// over 40,000 rows for one 100-row page of the bench registry, ~100 ms instead of ~1 ms).
/// Idempotent, so it also adds them to tables made before it existed (run at start); returns
/// how many it created.
pub fn ensure_leading_field_indexes(conn: &mut DbConn, spec: &TableSpec) -> QueryResult<usize> {
    let mut created = 0;
    let single: Vec<&String> = spec
        .indexes
        .iter()
        .filter(|f| f.len() == 1)
        .map(|f| &f[0])
        .collect();
    for (n, fields) in spec.indexes.iter().enumerate() {
        let Some(first) = fields.first() else {
            continue;
        };
        let name = format!("{}_ix{n}_lead", spec.table);
        if fields.len() < 2 || single.contains(&first) || index_exists(conn, &name)? {
            continue;
        }
        conn.batch_execute(&format!(
            "CREATE INDEX {} ON {} ({}, seq)",
            quote(&name),
            quote(&spec.table),
            field_column(first)
        ))?;
        created += 1;
    }
    Ok(created)
}

/// Whether an index of this name exists (PostgreSQL: in the current schema).
fn index_exists(conn: &mut DbConn, name: &str) -> QueryResult<bool> {
    let literal = name.replace('\'', "''");
    let sql = match conn.backend() {
        Backend::Sqlite => format!(
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND name = '{literal}'"
        ),
        Backend::Postgres => format!(
            "SELECT count(*) AS n FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname = '{literal}'"
        ),
    };
    let row: CountRow = diesel::sql_query(sql).get_result(conn)?;
    Ok(row.n > 0)
}

/// Item tables created before releases existed (no `valid_from` / `valid_to`): their rows cannot
/// be versioned in place.
pub fn unversioned_tables(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    use crate::db::schema::registries;
    let tables: Vec<String> = registries::table
        .select(registries::table_name)
        .load(conn)?;
    let mut old = Vec::new();
    for table in tables {
        let probe = format!("SELECT valid_to FROM {} WHERE 1 = 0", quote(&table));
        if conn.batch_execute(&probe).is_err() {
            old.push(table);
        }
    }
    Ok(old)
}

pub fn drop_table(conn: &mut DbConn, table: &str) -> QueryResult<()> {
    conn.batch_execute(&format!("DROP TABLE IF EXISTS {}", quote(table)))
}

/// The staging table an import writes to before its differences are published: same fixed and
/// field columns as the item table, no release range, dropped with the transaction.
pub const STAGE: &str = "import_stage";

/// Creates the (temporary, empty) staging table for `spec` inside the caller's transaction.
pub fn create_stage(conn: &mut DbConn, spec: &TableSpec) -> QueryResult<()> {
    let backend = conn.backend();
    let text = column_sql(backend, ColumnType::Text);
    let real = column_sql(backend, ColumnType::Double);
    let (drop, on_commit) = match backend {
        Backend::Sqlite => ("DROP TABLE IF EXISTS temp.import_stage; ", ""),
        Backend::Postgres => (
            "DROP TABLE IF EXISTS pg_temp.import_stage; ",
            " ON COMMIT DROP",
        ),
    };
    let mut ddl = format!(
        "{drop}CREATE TEMPORARY TABLE {STAGE} (seq BIGINT PRIMARY KEY, item_id {text} NOT NULL \
         UNIQUE, data TEXT NOT NULL, geometry TEXT, lon {real}, lat {real}, min_lon {real}, \
         min_lat {real}, max_lon {real}, max_lat {real}, search TEXT"
    );
    ddl.push_str(&field_columns_ddl(backend, spec));
    ddl.push(')');
    ddl.push_str(on_commit);
    conn.batch_execute(&ddl)
}

/// True when a row with this id is already staged.
pub fn is_staged(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    let marks = match conn.backend() {
        Backend::Sqlite => "?1",
        Backend::Postgres => "$1",
    };
    let found = diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM {STAGE} WHERE item_id = {marks}"
    ))
    .bind::<Text, _>(id)
    .get_result::<CountRow>(conn)?;
    Ok(found.n > 0)
}

/// Drops the staging table (SQLite keeps temporary tables for the connection's life).
pub fn drop_stage(conn: &mut DbConn) -> QueryResult<()> {
    if conn.backend() == Backend::Sqlite {
        conn.batch_execute("DROP TABLE IF EXISTS temp.import_stage")?;
    }
    Ok(())
}

/// What publishing a stage wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Rows of the new release.
    pub rows: i64,
    /// Unchanged rows given a new version only because the publisher moved them (no event).
    pub moved: usize,
}

/// The temporary table of `(position, seq)` of the staged rows that get a new version.
const ORDER: &str = "import_order";

#[derive(QueryableByName)]
struct MatchRow {
    #[diesel(sql_type = BigInt)]
    pos: i64,
    #[diesel(sql_type = BigInt)]
    old_seq: i64,
    #[diesel(sql_type = BigInt)]
    same: i64,
}

/// `s` and `i` carry the same item (data and geometry; every other column derives from them).
fn same_content(s: &str, i: &str) -> String {
    format!(
        "{s}.data = {i}.data AND ({s}.geometry = {i}.geometry \
         OR ({s}.geometry IS NULL AND {i}.geometry IS NULL))"
    )
}

/// Makes the staged rows release `number` (global id `release_id`) of the item table, listed in
/// the staged (file) order: `item_order::plan` decides which rows get a new version and their
/// `seq`; the current rows they replace, and rows that are gone, get `valid_to = number`; one
/// change event per created, updated or deleted item goes to `changes`, in release order. Rows
/// that did not change and did not move are not touched; a row that only moved gets a new version
/// without an event. Rows are never renumbered, so earlier releases read as they did.
pub fn publish_stage(
    conn: &mut DbConn,
    spec: &TableSpec,
    number: i64,
    release_id: i64,
) -> QueryResult<Published> {
    ensure_release_key(conn, spec)?;
    let t = quote(&spec.table);
    let matched: Vec<item_order::Matched> = diesel::sql_query(format!(
        "SELECT s.seq AS pos, i.seq AS old_seq, \
         CAST(CASE WHEN {same} THEN 1 ELSE 0 END AS BIGINT) AS same \
         FROM {STAGE} s JOIN {t} i ON i.item_id = s.item_id AND i.valid_to IS NULL ORDER BY s.seq",
        same = same_content("s", "i")
    ))
    .load::<MatchRow>(conn)?
    .into_iter()
    .map(|m| item_order::Matched {
        pos: m.pos,
        old_seq: m.old_seq,
        same: m.same != 0,
    })
    .collect();
    let staged = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {STAGE}"))
        .get_result::<CountRow>(conn)?
        .n;
    let plan = item_order::plan(staged, &matched).map_err(|_| {
        diesel::result::Error::QueryBuilderError(
            format!("{}: no seq left at an end of the order", spec.table).into(),
        )
    })?;
    write_order(conn, &plan.written)?;
    // Close the current rows that get a new version, and those no longer in the file.
    conn.batch_execute(&format!(
        "UPDATE {t} SET valid_to = {number} WHERE valid_to IS NULL AND (EXISTS \
         (SELECT 1 FROM {STAGE} s JOIN {ORDER} o ON o.pos = s.seq WHERE s.item_id = {t}.item_id) \
         OR NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE s.item_id = {t}.item_id))"
    ))?;
    let mut columns: Vec<String> = [
        "item_id", "data", "geometry", "lon", "lat", "min_lon", "min_lat", "max_lon", "max_lat",
        "search",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    columns.extend(spec.columns.iter().map(|c| field_column(&c.field)));
    let list = columns.join(", ");
    let from_stage: Vec<String> = columns.iter().map(|c| format!("s.{c}")).collect();
    conn.batch_execute(&format!(
        "INSERT INTO {t} (seq, valid_from, {list}) \
         SELECT o.seq, {number}, {stage_list} FROM {STAGE} s JOIN {ORDER} o ON o.pos = s.seq \
         ORDER BY o.seq",
        stage_list = from_stage.join(", ")
    ))?;
    // A new version whose content its closed one already had only moved: no event.
    conn.batch_execute(&format!(
        "INSERT INTO changes (release_id, record_type, record_id, op) \
         SELECT {release_id}, 'item', n.item_id, CASE WHEN EXISTS (SELECT 1 FROM {t} o \
         WHERE o.item_id = n.item_id AND o.valid_to = {number}) THEN 'updated' ELSE 'created' END \
         FROM {t} n WHERE n.valid_from = {number} AND NOT EXISTS (SELECT 1 FROM {t} o \
         WHERE o.item_id = n.item_id AND o.valid_to = {number} AND {same}) ORDER BY n.seq",
        same = same_content("n", "o")
    ))?;
    conn.batch_execute(&format!(
        "INSERT INTO changes (release_id, record_type, record_id, op) \
         SELECT {release_id}, 'item', o.item_id, 'deleted' FROM {t} o \
         WHERE o.valid_to = {number} AND NOT EXISTS (SELECT 1 FROM {t} n \
         WHERE n.item_id = o.item_id AND n.valid_from = {number}) ORDER BY o.seq"
    ))?;
    if conn.backend() == Backend::Sqlite {
        conn.batch_execute(&format!("DROP TABLE IF EXISTS temp.{ORDER}"))?;
    }
    Ok(Published {
        rows: count(conn, &spec.table, Version::Current, &[], None)?,
        moved: plan.moved,
    })
}

/// The planned `(position, seq)` pairs as the temporary table `import_order`.
fn write_order(conn: &mut DbConn, written: &[(i64, i64)]) -> QueryResult<()> {
    let (drop, on_commit) = match conn.backend() {
        Backend::Sqlite => ("DROP TABLE IF EXISTS temp.import_order; ", ""),
        Backend::Postgres => (
            "DROP TABLE IF EXISTS pg_temp.import_order; ",
            " ON COMMIT DROP",
        ),
    };
    conn.batch_execute(&format!(
        "{drop}CREATE TEMPORARY TABLE {ORDER} (pos BIGINT PRIMARY KEY, seq BIGINT NOT NULL){on_commit}"
    ))?;
    for chunk in written.chunks(1000) {
        let mut marks = Placeholders::new(conn.backend());
        let rows: Vec<String> = chunk
            .iter()
            .map(|_| format!("({}, {})", marks.take(), marks.take()))
            .collect();
        let mut query = diesel::sql_query(format!(
            "INSERT INTO {ORDER} (pos, seq) VALUES {}",
            rows.join(", ")
        ))
        .into_boxed::<MultiBackend>();
        for &(pos, seq) in chunk {
            query = query.bind::<BigInt, _>(pos).bind::<BigInt, _>(seq);
        }
        query.execute(conn)?;
    }
    Ok(())
}

/// Numbered placeholders (`$n` for PostgreSQL, `?n` for SQLite), so a keyset condition can use a
/// bound value in several places.
struct Placeholders {
    backend: Backend,
    next: usize,
}

impl Placeholders {
    fn new(backend: Backend) -> Self {
        Self { backend, next: 0 }
    }

    fn take(&mut self) -> String {
        self.next += 1;
        match self.backend {
            Backend::Postgres => format!("${}", self.next),
            Backend::Sqlite => format!("?{}", self.next),
        }
    }
}

type Boxed<'a> = BoxedSqlQuery<'a, MultiBackend, diesel::query_builder::SqlQuery>;

fn bind(query: Boxed<'_>, value: SqlValue) -> Boxed<'_> {
    match value {
        SqlValue::Null(ColumnType::Text) => query.bind::<Nullable<Text>, _>(None::<String>),
        SqlValue::Null(ColumnType::BigInt) => query.bind::<Nullable<BigInt>, _>(None::<i64>),
        SqlValue::Null(ColumnType::Double) => query.bind::<Nullable<Double>, _>(None::<f64>),
        SqlValue::Null(ColumnType::Bool) => query.bind::<Nullable<Bool>, _>(None::<bool>),
        SqlValue::Text(v) => query.bind::<Text, _>(v),
        SqlValue::BigInt(v) => query.bind::<BigInt, _>(v),
        SqlValue::Double(v) => query.bind::<Double, _>(v),
        SqlValue::Bool(v) => query.bind::<Bool, _>(v),
    }
}

/// One item row ready to insert.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub seq: i64,
    pub item_id: String,
    pub data: String,
    pub geometry: Option<String>,
    /// lon, lat, min_lon, min_lat, max_lon, max_lat.
    pub point_and_bbox: Option<[f64; 6]>,
    pub search: Option<String>,
    /// One value per column of the spec, in order.
    pub values: Vec<SqlValue>,
}

const FIXED_INSERT_COLUMNS: usize = 11;

/// Rows per INSERT statement, kept under both backends' bind-parameter limits.
pub fn insert_batch_size(spec: &TableSpec) -> usize {
    (30_000 / (FIXED_INSERT_COLUMNS + spec.columns.len())).clamp(1, 1000)
}

/// Writes rows to the staging table with multi-row INSERT statements.
pub fn stage(conn: &mut DbConn, spec: &TableSpec, rows: Vec<NewItem>) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns = vec![
        "seq", "item_id", "data", "geometry", "lon", "lat", "min_lon", "min_lat", "max_lon",
        "max_lat", "search",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    columns.extend(spec.columns.iter().map(|c| field_column(&c.field)));
    let mut marks = Placeholders::new(conn.backend());
    let mut sql = format!("INSERT INTO {STAGE} ({}) VALUES ", columns.join(", "));
    for (i, _) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let row: Vec<String> = (0..columns.len()).map(|_| marks.take()).collect();
        sql.push_str(&format!("({})", row.join(", ")));
    }
    let mut query = diesel::sql_query(sql).into_boxed::<MultiBackend>();
    for row in rows {
        let [lon, lat, min_lon, min_lat, max_lon, max_lat] = match row.point_and_bbox {
            Some(v) => v.map(SqlValue::Double),
            None => std::array::from_fn(|_| SqlValue::Null(ColumnType::Double)),
        };
        let fixed = [
            SqlValue::BigInt(row.seq),
            SqlValue::Text(row.item_id),
            SqlValue::Text(row.data),
            row.geometry
                .map_or(SqlValue::Null(ColumnType::Text), SqlValue::Text),
            lon,
            lat,
            min_lon,
            min_lat,
            max_lon,
            max_lat,
            row.search
                .map_or(SqlValue::Null(ColumnType::Text), SqlValue::Text),
        ];
        for value in fixed.into_iter().chain(row.values) {
            query = bind(query, value);
        }
    }
    query.execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CompareOp {
    fn sql(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Gt => ">",
            CompareOp::Gte => ">=",
            CompareOp::Lt => "<",
            CompareOp::Lte => "<=",
        }
    }
}

/// One condition on a registry's items; conditions are combined with AND.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Compare {
        field: String,
        op: CompareOp,
        value: SqlValue,
    },
    In {
        field: String,
        values: Vec<SqlValue>,
    },
    IsNull {
        field: String,
        null: bool,
    },
    /// Case-sensitive substring.
    Contains {
        field: String,
        text: String,
    },
    StartsWith {
        field: String,
        text: String,
    },
    /// Every token is a substring of the normalised search text.
    Search {
        tokens: Vec<String>,
    },
    /// Bounding boxes intersect.
    BBox {
        min_lon: f64,
        min_lat: f64,
        max_lon: f64,
        max_lat: f64,
    },
    /// The item id is this one (single-item lookups).
    ItemId(String),
    /// The item id is one of these.
    ItemIds(Vec<String>),
}

/// Sort key: a field (or `None` for `seq`) and direction. Nulls always sort last.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub field: String,
    pub descending: bool,
}

/// Which version of the items to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Version {
    /// The latest release.
    #[default]
    Current,
    /// The items as they were at this release number.
    AsOf(i64),
}

/// What to read: filters, order, where to start, how many.
#[derive(Debug, Clone, Default)]
pub struct Select {
    pub version: Version,
    pub conditions: Vec<Condition>,
    pub sort: Vec<SortKey>,
    /// Values of the sort fields and the `seq` of the last row already served.
    pub after: Option<(Vec<SqlValue>, i64)>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ItemRow {
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub item_id: String,
    #[diesel(sql_type = Text)]
    pub data: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub geometry: Option<String>,
    #[diesel(sql_type = Nullable<Double>)]
    pub lon: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub lat: Option<f64>,
}

fn like_pattern(token: &str) -> String {
    let escaped = token
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Appends the WHERE clause for `conditions` (and the keyset position) to `sql`, collecting binds.
fn where_clause(
    backend: Backend,
    select: &Select,
    marks: &mut Placeholders,
    sql: &mut String,
    binds: &mut Vec<SqlValue>,
) {
    let mut parts: Vec<String> = vec![match select.version {
        Version::Current => "valid_to IS NULL".to_owned(),
        Version::AsOf(n) => format!("valid_from <= {n} AND (valid_to IS NULL OR valid_to > {n})"),
    }];
    let position = |column: &str, marks: &mut Placeholders| match backend {
        Backend::Sqlite => format!("instr({column}, {})", marks.take()),
        Backend::Postgres => format!("strpos({column}, {})", marks.take()),
    };
    for c in &select.conditions {
        match c {
            Condition::Compare { field, op, value } => {
                parts.push(format!(
                    "{} {} {}",
                    field_column(field),
                    op.sql(),
                    marks.take()
                ));
                binds.push(value.clone());
            }
            Condition::In { field, values } => {
                let list: Vec<String> = values.iter().map(|_| marks.take()).collect();
                parts.push(format!("{} IN ({})", field_column(field), list.join(", ")));
                binds.extend(values.iter().cloned());
            }
            Condition::IsNull { field, null } => parts.push(format!(
                "{} IS {}NULL",
                field_column(field),
                if *null { "" } else { "NOT " }
            )),
            Condition::Contains { field, text } => {
                parts.push(format!("{} > 0", position(&field_column(field), marks)));
                binds.push(SqlValue::Text(text.clone()));
            }
            Condition::StartsWith { field, text } => {
                parts.push(format!("{} = 1", position(&field_column(field), marks)));
                binds.push(SqlValue::Text(text.clone()));
            }
            Condition::Search { tokens } => {
                for token in tokens {
                    parts.push(format!("search LIKE {} ESCAPE '\\'", marks.take()));
                    binds.push(SqlValue::Text(like_pattern(token)));
                }
            }
            Condition::BBox {
                min_lon,
                min_lat,
                max_lon,
                max_lat,
            } => {
                parts.push(format!(
                    "max_lon >= {} AND min_lon <= {} AND max_lat >= {} AND min_lat <= {}",
                    marks.take(),
                    marks.take(),
                    marks.take(),
                    marks.take()
                ));
                binds.extend([*min_lon, *max_lon, *min_lat, *max_lat].map(SqlValue::Double));
            }
            Condition::ItemId(id) => {
                parts.push(format!("item_id = {}", marks.take()));
                binds.push(SqlValue::Text(id.clone()));
            }
            Condition::ItemIds(ids) => {
                let list: Vec<String> = ids.iter().map(|_| marks.take()).collect();
                parts.push(format!("item_id IN ({})", list.join(", ")));
                binds.extend(ids.iter().cloned().map(SqlValue::Text));
            }
        }
    }
    if let Some((values, seq)) = &select.after {
        parts.push(keyset_after(&select.sort, values, *seq, marks, binds));
    }
    sql.push_str(" WHERE ");
    sql.push_str(&parts.join(" AND "));
}

/// "Strictly after this row" in the order (sort keys…, seq), with nulls last in every key:
/// (k1 after) OR (k1 equal AND k2 after) OR … OR (all equal AND seq > last seq).
fn keyset_after(
    sort: &[SortKey],
    values: &[SqlValue],
    seq: i64,
    marks: &mut Placeholders,
    binds: &mut Vec<SqlValue>,
) -> String {
    let mut alternatives = Vec::new();
    let mut equal_so_far: Vec<String> = Vec::new();
    for (key, value) in sort.iter().zip(values) {
        let column = field_column(&key.field);
        let is_null = matches!(value, SqlValue::Null(_));
        if !is_null {
            let op = if key.descending { "<" } else { ">" };
            let mut after = equal_so_far.clone();
            after.push(format!(
                "({column} {op} {} OR {column} IS NULL)",
                marks.take()
            ));
            binds.push(value.clone());
            alternatives.push(format!("({})", after.join(" AND ")));
            equal_so_far.push(format!("{column} = {}", marks.take()));
            binds.push(value.clone());
        } else {
            // Nothing sorts after a null in this key; rows tie only with other nulls.
            equal_so_far.push(format!("{column} IS NULL"));
        }
    }
    let mut last = equal_so_far;
    last.push(format!("seq > {}", marks.take()));
    binds.push(SqlValue::BigInt(seq));
    alternatives.push(format!("({})", last.join(" AND ")));
    format!("({})", alternatives.join(" OR "))
}

fn order_clause(sort: &[SortKey]) -> String {
    let mut keys: Vec<String> = sort
        .iter()
        .map(|k| {
            format!(
                "{} {} NULLS LAST",
                field_column(&k.field),
                if k.descending { "DESC" } else { "ASC" }
            )
        })
        .collect();
    keys.push("seq ASC".into());
    format!(" ORDER BY {}", keys.join(", "))
}

/// The SELECT statement for `select` and its bound values.
fn select_sql(backend: Backend, table: &str, select: &Select) -> (String, Vec<SqlValue>) {
    let mut marks = Placeholders::new(backend);
    let mut binds = Vec::new();
    let mut sql = format!(
        "SELECT seq, item_id, data, geometry, lon, lat FROM {}",
        quote(table)
    );
    where_clause(backend, select, &mut marks, &mut sql, &mut binds);
    sql.push_str(&order_clause(&select.sort));
    if let Some(limit) = select.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    (sql, binds)
}

fn bound(sql: String, binds: Vec<SqlValue>) -> Boxed<'static> {
    let mut query = diesel::sql_query(sql).into_boxed::<MultiBackend>();
    for value in binds {
        query = bind(query, value);
    }
    query
}

/// Reads items.
pub fn select(conn: &mut DbConn, table: &str, select: &Select) -> QueryResult<Vec<ItemRow>> {
    let (sql, binds) = select_sql(conn.backend(), table, select);
    bound(sql, binds).load(conn)
}

/// Reads every item matching `select` (from `select.after` on) in batches of `batch` rows, in
/// order, calling `each` per batch until it returns false. Runs inside the caller's read
/// snapshot. PostgreSQL reads through one server-side cursor, so the query is planned and
/// sorted once; SQLite continues each batch after the last row's key (`position`).
pub fn for_each_batch(
    conn: &mut DbConn,
    table: &str,
    select: &Select,
    batch: i64,
    position: impl Fn(&ItemRow) -> Option<(Vec<SqlValue>, i64)>,
    mut each: impl FnMut(&[ItemRow]) -> QueryResult<bool>,
) -> QueryResult<()> {
    match conn.backend() {
        Backend::Postgres => {
            let (sql, binds) = select_sql(
                Backend::Postgres,
                table,
                &Select {
                    limit: None,
                    ..select.clone()
                },
            );
            bound(
                format!("DECLARE export_items NO SCROLL CURSOR FOR {sql}"),
                binds,
            )
            .execute(conn)?;
            loop {
                let rows: Vec<ItemRow> =
                    diesel::sql_query(format!("FETCH FORWARD {batch} FROM export_items"))
                        .load(conn)?;
                if rows.is_empty() || !each(&rows)? || (rows.len() as i64) < batch {
                    break;
                }
            }
            conn.batch_execute("CLOSE export_items")
        }
        Backend::Sqlite => {
            let mut next = Select {
                limit: Some(batch),
                ..select.clone()
            };
            loop {
                let rows = self::select(conn, table, &next)?;
                let Some(last) = rows.last() else { break };
                next.after = Some(position(last).ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError(
                        format!("cannot continue after item {}", last.item_id).into(),
                    )
                })?);
                if !each(&rows)? || (rows.len() as i64) < batch {
                    break;
                }
            }
            Ok(())
        }
    }
}

/// Refreshes the planner's statistics for a table (after an import), so filters on skewed
/// values get the right plan from the first request on.
pub fn analyze(conn: &mut DbConn, table: &str) -> QueryResult<()> {
    if conn.backend() == Backend::Sqlite {
        // Sampled statistics: a full ANALYZE of a million-row table would cost a fifth of the
        // import, for a plan that a sample already gets right.
        conn.batch_execute("PRAGMA analysis_limit = 1000")?;
    }
    conn.batch_execute(&format!("ANALYZE {}", quote(table)))
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct ExtentRow {
    #[diesel(sql_type = Nullable<Double>)]
    min_lon: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    min_lat: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    max_lon: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    max_lat: Option<f64>,
}

/// The bounding box `[min_lon, min_lat, max_lon, max_lat]` of the located items of a version,
/// or `None` when no item has a geometry.
pub fn extent(conn: &mut DbConn, table: &str, version: Version) -> QueryResult<Option<[f64; 4]>> {
    let backend = conn.backend();
    let mut marks = Placeholders::new(backend);
    let mut binds = Vec::new();
    let spec = Select {
        version,
        ..Select::default()
    };
    let mut sql = format!(
        "SELECT MIN(min_lon) AS min_lon, MIN(min_lat) AS min_lat, MAX(max_lon) AS max_lon, \
         MAX(max_lat) AS max_lat FROM {}",
        quote(table)
    );
    where_clause(backend, &spec, &mut marks, &mut sql, &mut binds);
    let row = diesel::sql_query(sql)
        .into_boxed::<MultiBackend>()
        .get_result::<ExtentRow>(conn)?;
    Ok(match row {
        ExtentRow {
            min_lon: Some(a),
            min_lat: Some(b),
            max_lon: Some(c),
            max_lat: Some(d),
        } => Some([a, b, c, d]),
        _ => None,
    })
}

/// Counts matching items, stopping at `cap` when given (the result is then at most `cap`).
pub fn count(
    conn: &mut DbConn,
    table: &str,
    version: Version,
    conditions: &[Condition],
    cap: Option<i64>,
) -> QueryResult<i64> {
    let backend = conn.backend();
    let mut marks = Placeholders::new(backend);
    let mut binds = Vec::new();
    let spec = Select {
        version,
        conditions: conditions.to_vec(),
        ..Select::default()
    };
    let mut inner = format!("SELECT 1 FROM {}", quote(table));
    where_clause(backend, &spec, &mut marks, &mut inner, &mut binds);
    if let Some(cap) = cap {
        inner.push_str(&format!(" LIMIT {cap}"));
    }
    let sql = format!("SELECT COUNT(*) AS n FROM ({inner}) matched");
    let mut query = diesel::sql_query(sql).into_boxed::<MultiBackend>();
    for value in binds {
        query = bind(query, value);
    }
    Ok(query.get_result::<CountRow>(conn)?.n)
}
