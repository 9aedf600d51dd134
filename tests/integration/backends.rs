//! Storage: both migration folders build the schema `schema.rs` describes; fixture loads are
//! idempotent and all-or-nothing.

use diesel::prelude::*;
use opengov_api::db::schema::*;
use opengov_api::db::{Backend, DbConn};
use opengov_api::models::fixtures::{self, PlanFixtures};

use crate::common::TestApp;

fn backends() -> Vec<TestApp> {
    [Backend::Sqlite, Backend::Postgres]
        .into_iter()
        .filter_map(|b| TestApp::for_backend(b, false))
        .collect()
}

/// Round-trips a row through every table, so a column that differs between the two migration
/// folders and `schema.rs` fails here.
fn round_trip_every_table(conn: &mut DbConn) {
    conn.write_transaction(|conn| -> QueryResult<()> {
        diesel::insert_into(sources::table)
            .values((
                sources::id.eq("s"),
                sources::title.eq("t"),
                sources::url.eq(Some("https://example.org")),
                sources::seed_file.eq(None::<String>),
                sources::publisher.eq(Some("p")),
                sources::lang.eq("en"),
                sources::excerpt_cut.eq(true),
                sources::note.eq(Some("n")),
            ))
            .execute(conn)?;
        diesel::insert_into(members::table)
            .values((
                members::id.eq("m"),
                members::country.eq("UA"),
                members::ogp_track.eq("local"),
                members::joined_year.eq(Some(2020)),
                members::katottg.eq(Some("UA1")),
                members::koatuu.eq(Some("1")),
                members::ogp_url.eq(None::<String>),
            ))
            .execute(conn)?;
        diesel::insert_into(institutions::table)
            .values((
                institutions::id.eq("i"),
                institutions::kind.eq("cso"),
                institutions::parent_id.eq(None::<String>),
                institutions::homepage.eq(None::<String>),
                institutions::edrpou.eq(Some("123")),
            ))
            .execute(conn)?;
        diesel::insert_into(action_plans::table)
            .values((
                action_plans::id.eq("p"),
                action_plans::member_id.eq("m"),
                action_plans::date_submitted.eq(Some("2021-09-10")),
                action_plans::participant_groups.eq(Some(3)),
                action_plans::invitations_qualifier.eq(Some("more_than")),
            ))
            .execute(conn)?;
        diesel::insert_into(commitments::table)
            .values((
                commitments::id.eq("c"),
                commitments::action_plan_id.eq("p"),
                commitments::number.eq(1),
            ))
            .execute(conn)?;
        diesel::insert_into(commitment_ogp_values::table)
            .values((
                commitment_ogp_values::commitment_id.eq("c"),
                commitment_ogp_values::ogp_value.eq("civic_participation"),
            ))
            .execute(conn)?;
        diesel::insert_into(milestones::table)
            .values((
                milestones::id.eq("ms"),
                milestones::commitment_id.eq("c"),
                milestones::seq.eq(1),
                milestones::status.eq(Some("complete")),
                milestones::status_source_id.eq(Some("s")),
                milestones::due_earliest.eq(Some("2025-08-01")),
            ))
            .execute(conn)?;
        diesel::insert_into(co_creation_spaces::table)
            .values((
                co_creation_spaces::id.eq("sp"),
                co_creation_spaces::action_plan_id.eq("p"),
                co_creation_spaces::seq.eq(1),
                co_creation_spaces::channel.eq(None::<String>),
                co_creation_spaces::institution_id.eq(Some("i")),
            ))
            .execute(conn)?;
        diesel::insert_into(endorsements::table)
            .values((
                endorsements::id.eq("e"),
                endorsements::action_plan_id.eq("p"),
                endorsements::seq.eq(1),
                endorsements::endorser.eq("X"),
                endorsements::institution_id.eq(None::<String>),
            ))
            .execute(conn)?;
        diesel::insert_into(involvements::table)
            .values((
                involvements::id.eq("v"),
                involvements::institution_id.eq("i"),
                involvements::milestone_id.eq(Some("ms")),
                involvements::role.eq("lead"),
            ))
            .execute(conn)?;
        diesel::insert_into(assessments::table)
            .values((
                assessments::id.eq("a"),
                assessments::commitment_id.eq(Some("c")),
                assessments::kind.eq("inception_report"),
                assessments::verifiable.eq(Some(true)),
            ))
            .execute(conn)?;
        diesel::insert_into(progress_updates::table)
            .values((
                progress_updates::id.eq("u"),
                progress_updates::action_plan_id.eq(Some("p")),
                progress_updates::value.eq(Some(83.5)),
            ))
            .execute(conn)?;
        diesel::insert_into(record_sources::table)
            .values((
                record_sources::entity_type.eq("commitment"),
                record_sources::entity_id.eq("c"),
                record_sources::source_id.eq("s"),
            ))
            .execute(conn)?;
        diesel::insert_into(localized_texts::table)
            .values((
                localized_texts::entity_type.eq("commitment"),
                localized_texts::entity_id.eq("c"),
                localized_texts::field.eq("title"),
                localized_texts::lang.eq("uk"),
                localized_texts::value.eq("Назва"),
                localized_texts::source_id.eq(Some("s")),
            ))
            .execute(conn)?;
        Ok(())
    })
    .expect("insert into every table");
    let value: Option<f64> = progress_updates::table
        .select(progress_updates::value)
        .first(conn)
        .unwrap();
    assert_eq!(value, Some(83.5));
    let flag: Option<bool> = assessments::table
        .select(assessments::verifiable)
        .first(conn)
        .unwrap();
    assert_eq!(flag, Some(true));
    let text: String = localized_texts::table
        .select(localized_texts::value)
        .first(conn)
        .unwrap();
    assert_eq!(text, "Назва");
    // The CHECK constraint: an involvement needs exactly one subject.
    let both = diesel::insert_into(involvements::table)
        .values((
            involvements::id.eq("v2"),
            involvements::institution_id.eq("i"),
            involvements::milestone_id.eq(Some("ms")),
            involvements::commitment_id.eq(Some("c")),
            involvements::role.eq("lead"),
        ))
        .execute(conn);
    assert!(both.is_err(), "two subjects are refused");
    // Foreign keys are enforced on both backends (SQLite needs the pragma on every connection).
    let orphan = diesel::insert_into(commitments::table)
        .values((
            commitments::id.eq("c2"),
            commitments::action_plan_id.eq("no-plan"),
            commitments::number.eq(2),
        ))
        .execute(conn);
    assert!(orphan.is_err(), "foreign keys are on");
}

#[test]
fn every_table_round_trips_on_both_backends() {
    for app in backends() {
        let mut conn = app.pool().get().unwrap();
        assert!(conn.migrations_current().unwrap());
        round_trip_every_table(&mut conn);
    }
}

#[test]
fn migrations_go_down_and_up_again() {
    use diesel_migrations::MigrationHarness;
    for app in backends() {
        let mut conn = app.pool().get().unwrap();
        let reverted = match &mut *conn {
            DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConn::Pg(c) => c
                .revert_all_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
        }
        .unwrap();
        assert!(reverted >= 1);
        assert!(!conn.migrations_current().unwrap());
        assert_eq!(conn.migrate().unwrap(), reverted);
        round_trip_every_table(&mut conn);
    }
}

const SQLITE_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/postgres");

#[test]
fn migration_folders_have_the_same_versions() {
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("migrations/sqlite"), names("migrations/postgres"));
}

#[test]
fn loading_fixtures_twice_gives_the_same_data() {
    for app in backends() {
        let mut conn = app.pool().get().unwrap();
        let fx = PlanFixtures::embedded().unwrap();
        let first = fx.replace_all(&mut conn).unwrap();
        let counts = fixtures::counts(&mut conn).unwrap();
        let second = fx.replace_all(&mut conn).unwrap();
        assert_eq!(fixtures::counts(&mut conn).unwrap(), counts);
        assert_eq!(format!("{first:?}"), format!("{second:?}"));
        assert_eq!(counts["commitments"], 3);
        assert_eq!(counts["plans"], 1);
    }
}

#[test]
fn the_fixture_directory_matches_the_built_in_copy() {
    let from_dir = PlanFixtures::read_dir(std::path::Path::new("fixtures/plan")).unwrap();
    let app = TestApp::sqlite(false);
    let mut conn = app.pool().get().unwrap();
    let a = from_dir.replace_all(&mut conn).unwrap();
    let b = PlanFixtures::embedded()
        .unwrap()
        .replace_all(&mut conn)
        .unwrap();
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

/// Copies the real fixtures into a temp dir with one file edited.
fn broken_fixtures(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir("fixtures/plan").unwrap() {
        let entry = entry.unwrap();
        let mut text = std::fs::read_to_string(entry.path()).unwrap();
        if entry.file_name() == file {
            assert!(text.contains(from), "{file} contains {from}");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(dir.path().join(entry.file_name()), text).unwrap();
    }
    dir
}

#[test]
fn refused_fixtures_name_file_and_record_and_change_nothing() {
    for app in backends() {
        let mut conn = app.pool().get().unwrap();
        PlanFixtures::embedded()
            .unwrap()
            .replace_all(&mut conn)
            .unwrap();
        let before = fixtures::counts(&mut conn).unwrap();
        for (file, from, to, expected) in [
            (
                "commitments.toml",
                "plan_id = \"khm-2021-2025\"",
                "plan_id = \"no-such-plan\"",
                "unknown plan_id",
            ),
            (
                "commitments.toml",
                "sources = [\"ogp-plan-es\"]",
                "sources = [\"nowhere\"]",
                "unknown source \"nowhere\"",
            ),
            (
                "plan.toml",
                "date_submitted = \"2021-09-10\"",
                "date_submitted = \"2021-09-31\"",
                "date_submitted",
            ),
            (
                "institutions.toml",
                "kind = \"communal_enterprise\"",
                "kind = \"guild\"",
                "kind",
            ),
            (
                "commitments.toml",
                "number = 1",
                "number = 1\nsurprise = true",
                "unknown field",
            ),
        ] {
            let dir = broken_fixtures(file, from, to);
            let err = match PlanFixtures::read_dir(dir.path()) {
                Ok(fx) => fx.replace_all(&mut conn).map(|_| ()).unwrap_err(),
                Err(e) => e,
            };
            let message = err.to_string();
            assert!(message.contains(file), "{message}");
            assert!(message.contains(expected), "{expected}: {message}");
            assert_eq!(
                fixtures::counts(&mut conn).unwrap(),
                before,
                "nothing changed"
            );
        }
    }
}
