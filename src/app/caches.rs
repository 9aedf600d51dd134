//! What the server keeps between requests because a release never changes: filtered item
//! counts, and old plan releases rebuilt for pinned reads.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::db::DbConn;
use crate::error::AppError;
use crate::models::plan_release;

/// Filtered item counts per release. A release never changes, so a count computed once is the
/// answer for good: repeated filtered pages (and `count=exact`) cost one index lookup instead of
/// a scan. Bounded; the oldest entries go first.
#[derive(Clone, Default)]
pub struct ItemCounts {
    cache: Arc<Mutex<CountCache>>,
}

/// Counts by key, and the keys in insertion order (for eviction).
type CountCache = (std::collections::HashMap<String, i64>, VecDeque<String>);

const ITEM_COUNTS_KEPT: usize = 4096;

impl ItemCounts {
    /// The count for `key` (which must name the release), computing it on a miss.
    pub fn get_or(
        &self,
        key: String,
        compute: impl FnOnce() -> diesel::QueryResult<i64>,
    ) -> diesel::QueryResult<i64> {
        if let Some(n) = self.lock().0.get(&key) {
            return Ok(*n);
        }
        let n = compute()?;
        let mut cache = self.lock();
        if cache.0.insert(key.clone(), n).is_none() {
            cache.1.push_back(key);
            if cache.1.len() > ITEM_COUNTS_KEPT
                && let Some(oldest) = cache.1.pop_front()
            {
                cache.0.remove(&oldest);
            }
        }
        Ok(n)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CountCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Old plan releases rebuilt in scratch databases for pinned reads; the few most recently used
/// are kept (a plan release is small and immutable, so a rebuild is only ever a cache miss).
#[derive(Clone, Default)]
pub struct PlanSnapshots {
    cache: Arc<Mutex<VecDeque<(i64, Scratch)>>>,
}

/// One rebuilt release: a scratch database, used by one request at a time.
type Scratch = Arc<Mutex<DbConn>>;

const PLAN_SNAPSHOTS_KEPT: usize = 4;

impl PlanSnapshots {
    pub(super) fn get(&self, conn: &mut DbConn, number: i64) -> Result<Scratch, AppError> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = cache.iter().position(|(n, _)| *n == number) {
            let entry = cache.remove(at).expect("position is in range");
            let scratch = entry.1.clone();
            cache.push_front(entry);
            return Ok(scratch);
        }
        let mut scratch =
            crate::db::scratch_database().map_err(|e| AppError::Internal(e.to_string()))?;
        plan_release::restore(conn, number, &mut scratch).map_err(AppError::Internal)?;
        let scratch = Arc::new(Mutex::new(scratch));
        cache.push_front((number, scratch.clone()));
        cache.truncate(PLAN_SNAPSHOTS_KEPT);
        Ok(scratch)
    }
}
