//! Admission to a database pool, first come, first served.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::db::DbPool;
use crate::error::AppError;

/// First come, first served admission to the database pool. r2d2 gives a freed connection to
/// whichever waiting thread wakes first, so under overload an unlucky request can wait past the
/// timeout while later ones pass it; requests queue here instead (a FIFO semaphore with one
/// permit per pooled connection, awaited without holding a thread) and take a connection only
/// once admitted. A permit travels with its connection, into streamed exports too.
#[derive(Clone)]
pub struct DbGate {
    permits: Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
    /// Requests queued for a turn now (for `/metrics`).
    waiting: Arc<AtomicUsize>,
    /// Requests answered 503 at capacity so far (for `/metrics`).
    refused: Arc<AtomicU64>,
}

/// Counts a request as waiting for as long as it is, also when its future is dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl DbGate {
    pub fn new(size: usize, wait: std::time::Duration) -> Self {
        DbGate {
            permits: Arc::new(tokio::sync::Semaphore::new(size.max(1))),
            wait,
            waiting: Arc::default(),
            refused: Arc::default(),
        }
    }

    /// One permit per connection `pool` may open, waiting as long as a checkout would.
    pub fn for_pool(pool: &DbPool) -> Self {
        Self::new(pool.max_size() as usize, pool.connection_timeout())
    }

    /// Waits (in arrival order) for a turn at the pool; 503 when none comes within the pool's
    /// connection timeout.
    pub async fn enter(&self) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
        // A free permit is only free while nobody queues (the semaphore hands released permits
        // to waiters first), so taking it here keeps the order.
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let _waiting = Waiting::enter(&self.waiting);
        let turn = self.permits.clone().acquire_owned();
        match actix_web::rt::time::timeout(self.wait, turn).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(AppError::Internal("the database gate is closed".into())),
            Err(_) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                Err(AppError::AtCapacity(format!(
                    "every database connection stayed busy for {} s; retry shortly",
                    self.wait.as_secs_f64()
                )))
            }
        }
    }

    /// A turn only if one is free now (for optional work, like the early 304 check).
    pub fn try_enter(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Turns free right now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Requests queued for a turn right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Requests refused with 503 at capacity since the start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[actix_web::test]
    async fn the_database_gate_admits_in_turn_and_answers_503_when_full() {
        let gate = DbGate::new(1, std::time::Duration::from_millis(50));
        let first = gate.enter().await.expect("a free turn");
        assert!(
            gate.try_enter().is_none(),
            "one permit per pooled connection"
        );
        let refused = gate
            .enter()
            .await
            .expect_err("no turn while the only one is held");
        assert!(matches!(refused, AppError::AtCapacity(_)), "{refused:?}");
        assert_eq!(refused.status_code().as_u16(), 503);
        drop(first);
        assert!(gate.enter().await.is_ok(), "a released turn is given again");
    }
}
