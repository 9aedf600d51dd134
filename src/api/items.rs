//! Registry items over HTTP: the model's read errors as responses, the filtered-count cache of the
//! application state, and a complete export streamed as response chunks.

use actix_web::web::Bytes;

use crate::app::{HeldConnection, ItemCounts};
use crate::error::AppError;
use crate::formats::items::Renderer;
use crate::models::registries::items::{CountCache, Export, ReadError, Select};

impl From<ReadError> for AppError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::NoRegistry(_) | ReadError::NoSuchRelease(_) | ReadError::NoItem { .. } => {
                AppError::NotFound(e.to_string())
            }
            ReadError::NoGeometry(_) => AppError::NotAcceptable(e.to_string()),
            ReadError::Invalid(param) => param.into(),
            ReadError::Database(e) => e.into(),
        }
    }
}

impl CountCache for ItemCounts {
    fn count_or(
        &self,
        key: String,
        compute: &mut dyn FnMut() -> diesel::QueryResult<i64>,
    ) -> diesel::QueryResult<i64> {
        self.get_or(key, compute)
    }
}

/// Streams every item `select` names through `tx`, in batches read from one snapshot. Runs on a
/// blocking thread; stops early when the client goes away (the channel closes). A failure after
/// the first bytes ends the stream with an error, which aborts the response: an export is never
/// silently cut short.
pub fn stream_export(
    held: HeldConnection,
    renderer: Renderer,
    select: Select,
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let send = |bytes: Vec<u8>| -> bool {
        bytes.is_empty() || tx.blocking_send(Ok(Bytes::from(bytes))).is_ok()
    };
    let fail = |message: String| {
        log::error!("export of {} failed: {message}", renderer.registry.slug());
        let _ = tx.blocking_send(Err(std::io::Error::other(message)));
    };
    // The turn at the gate (held._admitted) stays taken until the export ends.
    let mut export = match Export::begin(held.conn) {
        Ok(export) => export,
        Err(e) => return fail(e.to_string()),
    };
    if !send(renderer.prologue()) {
        return;
    }
    let mut first = true;
    let mut client_left = false;
    let read = export.for_each_batch(&renderer.registry, &select, |rows| {
        let sent = send(renderer.rows(rows, first));
        first = false;
        client_left = !sent;
        sent
    });
    if let Err(e) = read {
        return fail(e.to_string());
    }
    if client_left {
        return;
    }
    send(renderer.epilogue(None, None));
}
