//! Reading an export's events a chunk at a time, by keyset: each chunk is one `db::run` (one
//! short checkout of a pooled connection, no transaction left open between chunks), and the
//! next chunk is read only when the previous one was written out. So an export of any size
//! holds about one chunk in memory, and a slow client holds no connection while it reads.

use tracing::Instrument;

use super::model::ExportRow;
use crate::db::{self, DbPool, Replica};
use crate::error::ApiResult;
use crate::events::filter::{EventListRequest, Viewer};
use crate::events::{form, search};
use crate::telemetry::{self, RequestContext};

/// The request an export serves, carried into work that runs after its handler has returned
/// (the body is read by the server once the handler is done): its span and id, so that log
/// lines name it, and the database its public reads go to.
#[derive(Clone)]
pub struct Origin {
    span: tracing::Span,
    context: Option<RequestContext>,
    replica: Option<Replica>,
}

impl Origin {
    /// The request being handled now.
    pub fn current() -> Self {
        Origin { span: tracing::Span::current(), context: telemetry::current(), replica: db::current_replica() }
    }

    pub fn request_id(&self) -> &str {
        self.context.as_ref().map_or("", |context| context.request_id.as_str())
    }

    /// Runs `work` as part of the request (its span, its context, its replica).
    pub async fn run<T>(&self, work: impl Future<Output = T>) -> T {
        let (replica, context) = (self.replica.clone(), self.context.clone());
        let work = async move {
            match replica {
                Some(replica) => db::public_reads(replica, work).await,
                None => work.await,
            }
        };
        let work = async move {
            match context {
                Some(context) => telemetry::scope(context, work).await,
                None => work.await,
            }
        };
        work.instrument(self.span.clone()).await
    }

    /// Says that a body already begun ends short: the client sees a truncated transfer.
    pub fn cut(&self, error: &crate::error::ApiError) {
        let _entered = self.span.enter();
        tracing::error!(
            request_id = %self.request_id(),
            %error,
            cause = ?error,
            "export cut short after its first bytes: the client gets a truncated file"
        );
    }
}

/// Where an export is in the list of events it writes.
pub struct Walk {
    pool: DbPool,
    request: EventListRequest,
    viewer: Viewer,
    over: bool,
    pub origin: Origin,
}

impl Walk {
    /// A walk from the start of `request` (its `limit` is the chunk size) as `viewer` sees it.
    pub fn new(pool: DbPool, request: EventListRequest, viewer: Viewer) -> Self {
        Walk { pool, request, viewer, over: false, origin: Origin::current() }
    }

    /// The next chunk of events with their forms, or `None` once every event was read.
    pub async fn next(&mut self) -> ApiResult<Option<Vec<ExportRow>>> {
        if self.over {
            return Ok(None);
        }
        let (request, viewer) = (self.request.clone(), self.viewer);
        let read = db::run(&self.pool, move |conn| {
            let (rows, next) = search::chunk(conn, &request, viewer)?;
            let forms = form::forms_of(conn, &rows)?;
            let rows: Vec<ExportRow> =
                rows.into_iter().zip(forms).map(|(row, form)| ExportRow::new(row, form)).collect();
            Ok((rows, next))
        });
        let (rows, next) = self.origin.run(read).await?;
        match next {
            Some(key) => self.request.after = Some(key),
            None => self.over = true,
        }
        if rows.is_empty() {
            self.over = true;
            return Ok(None);
        }
        Ok(Some(rows))
    }
}
