//! The whole fixture set — the plan and the registries — loaded together, idempotently.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::db::DbConn;
use crate::models::fixtures::{EMBEDDED, FixtureError, LoadSummary, PlanFixtures};
use crate::models::registries::definition::{self, RegistryDefinition};
use crate::models::registries::import::{self, ImportSummary};
use crate::models::registries::{self as registries};

/// Where a registry's items file is read from.
#[derive(Debug, Clone)]
enum ItemsFile {
    Embedded(&'static [u8]),
    Disk(PathBuf),
}

pub struct FixtureSet {
    plan: PlanFixtures,
    registries: Vec<(RegistryDefinition, ItemsFile)>,
}

#[derive(Debug, Serialize)]
pub struct SetSummary {
    pub plan: LoadSummary,
    pub registries: Vec<ImportSummary>,
}

impl FixtureSet {
    /// The fixtures built into the binary.
    pub fn embedded() -> Result<Self, FixtureError> {
        let plan = PlanFixtures::embedded()?;
        let mut problems = Vec::new();
        let mut registries = Vec::new();
        let mut dirs: Vec<_> = EMBEDDED
            .get_dir("registries")
            .map(|d| d.dirs().collect())
            .unwrap_or_default();
        dirs.sort_by_key(|d| d.path().to_path_buf());
        for dir in dirs {
            let path = dir.path().join("registry.toml");
            let Some(text) = EMBEDDED.get_file(&path).and_then(|f| f.contents_utf8()) else {
                continue;
            };
            let name = format!("(built-in) fixtures/{}", path.display());
            match definition::parse_fixture(&name, text) {
                Ok(def) => {
                    let items = dir.path().join(&def.items_file);
                    match EMBEDDED.get_file(&items) {
                        Some(file) => registries.push((def, ItemsFile::Embedded(file.contents()))),
                        None => problems
                            .push(format!("{name}: items file {} is missing", items.display())),
                    }
                }
                Err(p) => problems.extend(p),
            }
        }
        if problems.is_empty() {
            Ok(FixtureSet { plan, registries })
        } else {
            Err(FixtureError { problems })
        }
    }

    /// The fixtures in `root` (with `plan/` and `registries/<slug>/`).
    pub fn read_dir(root: &Path) -> Result<Self, FixtureError> {
        let plan = PlanFixtures::read_dir(&root.join("plan"))?;
        let mut problems = Vec::new();
        let mut registries = Vec::new();
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("registries"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        dirs.sort();
        for dir in dirs {
            let path = dir.join("registry.toml");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            match definition::parse_fixture(&path.display().to_string(), &text) {
                Ok(def) => {
                    let items = dir.join(&def.items_file);
                    registries.push((def, ItemsFile::Disk(items)));
                }
                Err(p) => problems.extend(p),
            }
        }
        if problems.is_empty() {
            Ok(FixtureSet { plan, registries })
        } else {
            Err(FixtureError { problems })
        }
    }

    /// Replaces the plan, (re)defines every fixture registry, then imports each registry's items.
    /// Definitions are stored in one transaction; each import is its own all-or-nothing step.
    pub fn load(&self, conn: &mut DbConn) -> Result<SetSummary, FixtureError> {
        let plan = conn.write_transaction(|conn| -> Result<LoadSummary, FixtureError> {
            for (def, _) in &self.registries {
                definition::delete_provenance(conn, def.slug())?;
            }
            let plan = self.plan.replace_all_in(conn)?;
            crate::models::plan_release::publish(conn, "fixtures")?;
            for (def, _) in &self.registries {
                def.store(conn)
                    .map_err(|problems| FixtureError { problems })?;
            }
            Ok(plan)
        })?;
        let mut imported = Vec::new();
        for (def, file) in &self.registries {
            let refused = |e: import::ImportError| FixtureError {
                problems: vec![format!("registry {} items: {e}", def.slug())],
            };
            let registry =
                registries::find_schema(conn, def.slug())?.ok_or_else(|| FixtureError {
                    problems: vec![format!("registry {} was not stored", def.slug())],
                })?;
            // A fixture's items file is reviewed data: one without items is meant so.
            let summary = match file {
                ItemsFile::Embedded(bytes) => import::import_with(
                    conn,
                    &registry,
                    def.items_format,
                    *bytes,
                    &import::ImportOptions {
                        origin: "fixtures",
                        publish: import::Publish::IfChanged,
                        max_rows: None,
                        allow_empty: true,
                    },
                    |_, _| Ok(()),
                ),
                ItemsFile::Disk(path) => {
                    import::import_file(conn, &registry, path, import::Publish::IfChanged, true)
                }
            }
            .map_err(refused)?;
            imported.push(summary);
        }
        Ok(SetSummary {
            plan,
            registries: imported,
        })
    }
}
