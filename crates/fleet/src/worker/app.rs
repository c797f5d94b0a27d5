//! Running a `slack_rtm::App` on a worker: each stream entry goes through the app's
//! dispatcher, and is confirmed (`XACK`) once its listeners succeeded.

use super::{Worker, WorkerCounts};
use crate::entry::FleetEvent;
use slack_rtm::app::{AppRequest, Dispatcher, NoAck, RequestKind, ShuttingDown};
use std::future::Future;

/// The request for an entry: its envelope's payload. A gateway acked the envelope already, so
/// the ack cannot carry a response ([`AppRequest::accepts_response_payload`] is `false`).
fn request(ev: &FleetEvent) -> Option<AppRequest> {
    let envelope = ev.envelope().ok()?;
    let payload = envelope.payload?;
    Some(
        AppRequest::new(RequestKind::from_wire(&ev.envelope_type), payload)
            .with_envelope_id(ev.envelope_id.clone())
            .with_retry(envelope.retry_attempt, envelope.retry_reason)
            .with_response_payload(false),
    )
}

impl Worker {
    /// Hands every entry to `app` (made with `App::into_dispatcher`) until `stop` resolves,
    /// as [`Worker::run`] does to a handler: an entry is confirmed once its listeners returned
    /// `Ok`; after a listener's error or panic it is tried again (at least once: listeners
    /// should be idempotent, [`FleetEvent::idempotency_key`] is the key), then dead-lettered
    /// after [`WorkerConfig::max_attempts`](super::WorkerConfig::max_attempts).
    ///
    /// The gateway acked each envelope when Redis had it, so a listener's `ack_with` acks
    /// nothing and returns `AckError::NoResponsePayload`: answer a command or an interaction
    /// with `ctx.respond` (its `response_url`) or the Web API. An entry that is not an
    /// envelope is confirmed and skipped. Entries are handled one at a time per worker; run
    /// several workers for more.
    pub async fn run_app(&mut self, app: &Dispatcher, stop: impl Future<Output = ()>) -> WorkerCounts {
        let handler = |ev: FleetEvent| {
            let app = app.clone();
            async move {
                let Some(request) = request(&ev) else {
                    tracing::warn!(
                        key = ev.idempotency_key(),
                        "an entry without an envelope payload; skipped"
                    );
                    return Ok(());
                };
                match app.dispatch_and_wait(request, NoAck).await {
                    Ok(true) => Ok(()),
                    Ok(false) => Err("a listener failed"),
                    Err(ShuttingDown) => Err("the app is shutting down"),
                }
            }
        };
        self.run(handler, stop).await
    }
}
