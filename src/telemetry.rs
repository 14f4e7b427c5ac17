//! The request being served, as seen from anywhere its work runs: error rendering reads its
//! path and id, and work handed to the blocking pool keeps its span, so that a log line
//! written there (a slow query, a pool timeout, a reused refresh token) carries the request id.

use std::cell::RefCell;

/// What error rendering needs to know about the request being served.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub path: String,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

thread_local! {
    /// The context of the request whose work this blocking-pool thread is running.
    static BLOCKING_CONTEXT: RefCell<Option<RequestContext>> = const { RefCell::new(None) };
}

/// The context of the request this task (or this blocking work) is serving, if any.
pub fn current() -> Option<RequestContext> {
    CONTEXT.try_with(Clone::clone).ok().or_else(|| BLOCKING_CONTEXT.with(|c| c.borrow().clone()))
}

/// Runs `future` as the given request's work.
pub async fn scope<F: Future>(context: RequestContext, future: F) -> F::Output {
    CONTEXT.scope(context, future).await
}

/// Wraps blocking work so that it runs inside the calling request's span and context.
pub fn carry<T>(work: impl FnOnce() -> T) -> impl FnOnce() -> T {
    let span = tracing::Span::current();
    let context = current();
    move || {
        let _entered = span.enter();
        let previous = BLOCKING_CONTEXT.with(|c| c.replace(context));
        let result = work();
        BLOCKING_CONTEXT.with(|c| c.replace(previous));
        result
    }
}
