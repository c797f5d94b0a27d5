//! Running an [`App`] on a Socket Mode session.

use super::App;
use super::dispatch::{Dispatcher, Kit, TryDispatch};
use super::receiver::{AckFuture, Acknowledger, AppRequest, DispatcherOnly, RequestKind};
use crate::Error;
use crate::socket_mode::delivery::ack_payload;
use crate::socket_mode::{
    AckMode, DeliveryAckError, EnvelopeId, SocketFrame, SocketModeClient, SocketModeClientBuilder,
    SocketModeItem,
};
use slack_rtm_codec::BoxError;
use slack_rtm_session::driver::{QueuedBytes, SocketModeHandle, SocketModeStreamItem};
use slack_rtm_session::socket_mode::{Delivered, DeliverySeq};
use slack_rtm_types::RawJson;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;
use tokio::runtime::RuntimeFlavor;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// An [`App`] running on a Socket Mode session: [`SocketModeApp::shutdown`] stops it,
/// [`SocketModeApp::wait`] waits until the session stops.
#[derive(Debug)]
pub struct SocketModeApp {
    client: SocketModeClient,
    dispatcher: Dispatcher,
    stop: Arc<Stop>,
    pump: JoinHandle<()>,
    queued: QueuedBytes,
}

/// The pump's stop signal: a flag read before each envelope (a load, where polling the
/// signal's registered wait took its lock per envelope), and the wait polled only while no
/// envelope is ready or while the pump waits for a free slot.
#[derive(Debug, Default)]
struct Stop {
    flag: AtomicBool,
    notify: Notify,
}

impl Stop {
    fn signal(&self) {
        self.flag.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    #[inline]
    fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }
}

/// The session's byte budget for an app on tokio's current-thread runtime
/// ([`SocketModeClientBuilder::capacity_bytes`] unless given): the dispatcher holds up to
/// [`App::concurrency`] requests of its own and its pump takes the next envelope as soon as a
/// slot is free, so the session only has to cover the pump's next few reads — about a hundred
/// envelopes of ~1 KB, not the 512 KiB (~5 times more frames, and their unacked entries) a
/// consumer without a bound of its own gets. The multi-thread runtime has its own
/// ([`APP_CAPACITY_BYTES_MULTI_THREAD`]).
pub(crate) const APP_CAPACITY_BYTES: usize = 128 * 1024;

/// The session's byte budget for an app on tokio's multi-thread runtime (unless given): there
/// the session and the pump run on different workers and each stop and restart of the
/// session's reading crosses threads, so 128 KiB measured 14–17 % fewer envelopes a second
/// (docs/perf/mem6.md); 384 KiB against the session's 512 KiB lowered a busy app's peak RSS by
/// ~0.75 MB (plain envelopes) and ~0.4 MB (Slack-shaped) for +1–2 % task-clock under load and
/// no more instructions (docs/perf/mem11.md): what waits costs ~3.6 bytes of RSS per byte of
/// budget there (the frames, their items, and each worker's allocator arena).
pub(crate) const APP_CAPACITY_BYTES_MULTI_THREAD: usize = 384 * 1024;

/// What the dispatcher takes from an envelope besides its id and type, read in one pass that
/// builds nothing else (the payload is copied verbatim).
#[derive(serde::Deserialize)]
struct Parts {
    #[serde(default)]
    payload: Option<RawJson>,
    #[serde(default)]
    retry_attempt: u32,
    #[serde(default)]
    retry_reason: Option<String>,
}

/// The envelope as the dispatcher takes it, and its ack through the session (`acker`: the
/// session's handle in manual ack mode). Read from what the session handed over, where it
/// lies (no `Delivery` made around it: the pump owes the ack itself, through the
/// [`SocketAck`]). The payload is handed on where it lies in the frame (no copy) when the
/// frame's scan read it.
// Inlined into the pump: the pair is then built where `try_dispatch` takes it, not returned
// through memory and copied again (~200 bytes).
#[inline(always)]
fn request(delivered: &mut Delivered, acker: Option<&SocketModeHandle>) -> (AppRequest, SocketAck) {
    let frame = &mut delivered.frame;
    let kind = RequestKind::from_wire(frame.envelope_type());
    let event = kind == RequestKind::EventsApi;
    let id = EnvelopeId::new(frame.envelope_id());
    // An empty reason counts as none (as `with_retry` reads it): no `String` built for it.
    let scanned =
        frame.retry().map(|(attempt, reason)| (attempt, reason.filter(|r| !r.is_empty()).map(str::to_owned)));
    let (payload, attempt, reason) = match scanned {
        // Read by the scan: the frame's text taken over (`None`: absent or `null`).
        Some((attempt, reason)) => (frame.take_payload().unwrap_or_else(null_json), attempt, reason),
        None => match serde_json::from_str::<Parts>(frame.as_str()) {
            Ok(p) => (p.payload.unwrap_or_else(null_json), p.retry_attempt, p.retry_reason),
            // An odd shape: as the envelope's own decode reads it.
            Err(_) => match frame.decode() {
                Ok(SocketFrame::Envelope(e)) => {
                    (e.payload.unwrap_or_else(null_json), e.retry_attempt, e.retry_reason)
                }
                _ => (null_json(), 0, None),
            },
        },
    };
    let event_type = if event { delivered.event_type.take() } else { None };
    // Auto mode (never an app's): acked by the session already, nothing owed.
    let handle = if delivered.acked { None } else { acker.cloned() };
    // An event's ack names the request's id (the dispatcher hands it over when it sends the
    // ack, and the pump when it keeps the event back): no copy of its own.
    let ack = SocketAck { seq: delivered.seq, handle, id: (!event).then(|| id.clone()), event };
    // Written whole (not through the builder: each of its calls moves the ~120-byte request).
    let request = AppRequest {
        kind,
        payload,
        envelope_id: Some(id),
        retry_attempt: attempt,
        // An empty reason counts as none (as `AppRequest::with_retry` reads it).
        retry_reason: reason.filter(|r| !r.is_empty()),
        // An ack frame can always carry a payload: the listener decides (Slack reads it where
        // the envelope `accepts_response_payload`; a server that leaves the flag out still
        // gets a command's reply or an options list).
        accepts_response_payload: true,
        event_type,
    };
    (request, ack)
}

/// What the pump does once no envelope is ready, or one could not be handed over at once.
enum Step {
    /// Stop reading: the stop signal, the app shutting down, or the session's end.
    Stop,
    /// No free slot for this request: wait for one (the ack with its id).
    Wait(AppRequest, SocketAck),
    /// Not an envelope.
    Item(SocketModeItem),
}

/// An envelope's ack through the session (`handle`: `None` in auto mode, already acked, or
/// once the ack was sent). Dropped unsent, it releases the envelope, as a [`Delivery`](crate::socket_mode::Delivery) does.
struct SocketAck {
    handle: Option<SocketModeHandle>,
    /// The envelope's id; `None` for an event while the dispatcher holds its request (the
    /// dispatcher acks it at once with the request's id, [`Acknowledger::ack_empty_now_of`]);
    /// an event's ack that can outlive that call gets it first ([`SocketAck::named`]).
    id: Option<EnvelopeId>,
    /// Where the envelope stands in the session's delivery order: a plain ack in that order
    /// only moves the session's count on ([`SocketModeHandle::ack_detached_in_order`]).
    seq: Option<DeliverySeq>,
    event: bool,
}

impl SocketAck {
    /// With the envelope's id (an event's ack the dispatcher did not take: kept back for a
    /// slot, or refused), so that it can still be sent by id or released.
    fn named(mut self, request: &AppRequest) -> SocketAck {
        if self.id.is_none() {
            self.id = request.envelope_id.clone();
        }
        self
    }

    /// A plain ack, nobody waiting for its write: in delivery order through the session's
    /// count, else by id.
    #[inline(always)]
    fn plain(h: SocketModeHandle, seq: Option<DeliverySeq>, id: &EnvelopeId) -> Result<(), DeliveryAckError> {
        match seq {
            // The id (read back as text) only if the ack cannot go by the count.
            Some(seq) => h.ack_detached_in_order_with(seq, || id.clone()),
            None => h.ack_detached(id, None),
        }
    }
}

/// An ack that names no envelope (an event's whose request carried no id: never one the pump
/// made).
fn unnamed() -> BoxError {
    "the envelope's id is not known".into()
}

impl Acknowledger for SocketAck {
    fn ack(mut self: Box<Self>, body: Option<serde_json::Value>) -> AckFuture {
        let Some(h) = self.handle.take() else { return Box::pin(std::future::ready(Ok(()))) };
        let Some(id) = self.id.take() else { return Box::pin(std::future::ready(Err(unnamed()))) };
        if self.event && body.is_none() {
            return Box::pin(std::future::ready(Self::plain(h, self.seq, &id).map_err(Into::into)));
        }
        Box::pin(async move {
            let payload = body.as_ref().map(ack_payload).transpose()?;
            h.ack(id, payload).await.map_err(Into::into)
        })
    }

    fn ack_empty_now(&mut self) -> Option<Result<(), BoxError>> {
        // An event is acked before its listeners run, and nobody waits for the write: the
        // session writes it on its next turn (no round trip to its task per envelope).
        if !self.event {
            return None;
        }
        Some(match self.handle.take() {
            Some(h) => match &self.id {
                Some(id) => Self::plain(h, self.seq, id).map_err(Into::into),
                None => Err(unnamed()),
            },
            None => Ok(()),
        })
    }

    // Inlined where the dispatcher starts a request (a call there otherwise, with its moves).
    #[inline(always)]
    fn ack_empty_now_of(
        mut self,
        envelope_id: Option<&EnvelopeId>,
        _: DispatcherOnly,
    ) -> Result<Result<(), BoxError>, Self> {
        if !self.event {
            return Err(self);
        }
        // As `ack_empty_now`, by the request's id when the ack has none of its own.
        let sent = match self.handle.take() {
            Some(h) => match self.id.as_ref().or(envelope_id) {
                Some(id) => Self::plain(h, self.seq, id).map_err(Into::into),
                None => Err(unnamed()),
            },
            None => Ok(()),
        };
        // Nothing is left to release: its id (an event's has none unless it waited for a
        // slot) dropped here, and the rest forgotten, not dropped through a call per envelope.
        drop(self.id.take());
        std::mem::forget(self);
        Ok(sent)
    }
}

impl Drop for SocketAck {
    #[inline]
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            // An event's ack not taken by the dispatcher was named first (`named`).
            if let Some(id) = &self.id {
                h.release(id);
            }
        }
    }
}

impl App {
    /// Connects `builder` (which must have the bot token: [`SocketModeClientBuilder::web_token`])
    /// in manual ack mode, and runs the app until the session stops.
    pub async fn run_socket_mode(self, builder: SocketModeClientBuilder) -> Result<(), Error> {
        self.start_socket_mode(builder).await?.wait().await;
        Ok(())
    }

    /// Connects `builder` (with the bot token: [`SocketModeClientBuilder::web_token`]) in
    /// manual ack mode, so a command's or a view's ack can carry a response, and starts
    /// handing envelopes to the app. Unless `builder` sets
    /// [`capacity_bytes`](SocketModeClientBuilder::capacity_bytes), at most 128 KiB of
    /// envelopes on tokio's current-thread runtime, 384 KiB on the multi-thread one (plus the
    /// one batch of 64 the session had read), wait between the session and the dispatcher
    /// ([`SocketModeApp::queued_bytes`]); the dispatcher's own requests are bounded by
    /// [`App::concurrency`]. Requests start inline
    /// unless the app called [`App::start_inline`] with `false`.
    pub async fn start_socket_mode(
        mut self,
        builder: SocketModeClientBuilder,
    ) -> Result<SocketModeApp, Error> {
        let current_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::CurrentThread);
        self.config.start_inline = starts_inline(&self.config);
        let (client, mut items) = app_builder(builder, current_thread).connect().await?;
        let queued = items.queued_bytes_gauge();
        let Some(web) = client.web().cloned() else {
            client.shutdown_with(Duration::ZERO).await;
            return Err(Error::Config(
                "an App needs the bot token for its listeners: SocketModeClientBuilder::web_token".into(),
            ));
        };
        let dispatcher = self.into_dispatcher(web).await;
        let stop = Arc::new(Stop::default());
        let (d, s) = (dispatcher.clone(), stop.clone());
        let pump = tokio::spawn(async move {
            // One wait for the stop signal for the whole run (registered once, not per envelope).
            let mut stopped = std::pin::pin!(s.notify.notified());
            // The pump's own spare box and request info for the requests it starts inline: no
            // lock per request on the dispatcher's.
            let mut kit = Kit::default();
            loop {
                // Every envelope ready now, each handed over where the stream handed it out
                // (not moved out of this poll and matched again per envelope). The stop signal
                // first (as a biased select), by its flag: the wait is polled only when no
                // envelope is ready (so that the signal wakes the pump).
                let step = std::future::poll_fn(|cx| {
                    loop {
                        if s.is_set() {
                            return Poll::Ready(Step::Stop);
                        }
                        // What the session hands over, read where it lies (not moved out
                        // first, nor made into a `Delivery` and an item); dropped once handed over.
                        match items.poll_output(cx) {
                            Poll::Ready(Some(SocketModeStreamItem::Envelope(ref mut delivered))) => {
                                let (request, ack) = request(delivered, items.acker());
                                // A free slot (the common case): handed over at once, no future built.
                                match d.try_dispatch(&mut kit, request, ack) {
                                    TryDispatch::Taken => continue,
                                    TryDispatch::ShuttingDown(request, ack) => {
                                        // Released, by the request's id.
                                        drop(ack.named(&request));
                                        return Poll::Ready(Step::Stop);
                                    }
                                    TryDispatch::Full(request, ack) => {
                                        let ack = ack.named(&request);
                                        return Poll::Ready(Step::Wait(request, ack));
                                    }
                                }
                            }
                            Poll::Ready(Some(other)) => match items.item(other) {
                                Some(item) => return Poll::Ready(Step::Item(item)),
                                None => continue,
                            },
                            Poll::Ready(None) => return Poll::Ready(Step::Stop),
                            Poll::Pending => {}
                        }
                        return match stopped.as_mut().poll(cx) {
                            Poll::Ready(()) => Poll::Ready(Step::Stop),
                            Poll::Pending => Poll::Pending,
                        };
                    }
                })
                .await;
                match step {
                    Step::Stop => break,
                    // Waits for a free slot: meanwhile no envelope is read (see docs/app.md).
                    Step::Wait(request, ack) => tokio::select! {
                        biased;
                        _ = &mut stopped => break,
                        r = d.dispatch(request, ack) => if r.is_err() { break },
                    },
                    Step::Item(SocketModeItem::Stopped { reason }) => {
                        tracing::info!(?reason, "the Socket Mode session stopped");
                        break;
                    }
                    Step::Item(other) => tracing::debug!(item = ?other, "socket mode"),
                }
            }
        });
        Ok(SocketModeApp { client, dispatcher, stop, pump, queued })
    }
}

/// Whether a Socket Mode app starts its requests inline ([`App::start_inline`]): as set, else
/// yes. Its receiver is the pump, which only hands envelopes over (the session reads, acks and
/// keeps the sockets alive on its own task), so a listener's synchronous part delays the next
/// hand-over, not the session; and a task per request measured 8 % more instructions per
/// envelope on the current-thread runtime (docs/perf/app7.md) and, on the multi-thread one,
/// 1.4 × the raw loop's CPU against about 1.0 × inline (docs/benchmarks.md).
fn starts_inline(config: &super::AppConfig) -> bool {
    if config.start_inline_set { config.start_inline } else { true }
}

/// The builder as an app runs it: manual acks, and the app's byte budget for its runtime
/// unless one was set.
fn app_builder(builder: SocketModeClientBuilder, current_thread: bool) -> SocketModeClientBuilder {
    let builder = builder.ack_mode(AckMode::Manual);
    builder.default_capacity_bytes(if current_thread {
        APP_CAPACITY_BYTES
    } else {
        APP_CAPACITY_BYTES_MULTI_THREAD
    })
}

impl SocketModeApp {
    /// Bytes of the envelope frames the session handed over and the app has not taken yet
    /// (as [`SocketModeItems::queued_bytes`](crate::socket_mode::SocketModeItems::queued_bytes)):
    /// the session stops reading its sockets while this is at its byte budget.
    pub fn queued_bytes(&self) -> usize {
        self.queued.get()
    }

    /// The session.
    pub fn client(&self) -> &SocketModeClient {
        &self.client
    }

    /// The dispatcher (for its Web client, its bot identity, what is in flight).
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// Runs until the session stops (a fatal error, or [`SocketModeClient::shutdown`]
    /// elsewhere), then waits up to 10 s for the running listeners.
    pub async fn wait(self) -> bool {
        self.run_until(std::future::pending(), Duration::from_secs(10)).await
    }

    /// Graceful shutdown now: as [`SocketModeApp::run_until`] with a signal already given.
    pub async fn shutdown(self, grace: Duration) -> bool {
        self.run_until(std::future::ready(()), grace).await
    }

    /// Runs until `signal` (e.g. Ctrl-C) or until the session stops, then shuts down
    /// gracefully: stops reading envelopes (those not read yet are never acked, so Slack
    /// delivers them again), lets the running listeners finish within `grace` (their acks are
    /// sent), then closes the session. `true` if every listener finished in time.
    pub async fn run_until(self, signal: impl Future<Output = ()>, grace: Duration) -> bool {
        let SocketModeApp { client, dispatcher, stop, mut pump, queued: _ } = self;
        tokio::select! {
            _ = &mut pump => {}
            () = signal => {
                stop.signal();
                let _ = pump.await;
            }
        }
        let finished = dispatcher.shutdown(grace).await;
        client.shutdown().await;
        finished
    }
}

fn null_json() -> RawJson {
    RawJson::from_json("null").expect("valid JSON")
}

#[cfg(test)]
mod tests {
    use super::{
        APP_CAPACITY_BYTES, APP_CAPACITY_BYTES_MULTI_THREAD, DispatcherOnly, app_builder, request,
        starts_inline,
    };
    use crate::SocketModeClient;
    use crate::app::App;
    use crate::app::receiver::Acknowledger;
    use crate::app::receiver::RequestKind;
    use slack_rtm_session::ConnId;
    use slack_rtm_session::socket_mode::Delivered;
    use slack_rtm_types::socket_mode::EnvelopeFrame;

    /// What the session hands over for `text` (manual mode, not acked).
    fn delivered(text: &str, event_type: Option<&str>) -> Delivered {
        Delivered {
            conn: ConnId(1),
            frame: EnvelopeFrame::new(text.to_owned()).expect("an envelope"),
            event_id: None,
            event_type: event_type.map(str::to_owned),
            acked: false,
            seq: None,
        }
    }

    #[test]
    fn the_request_and_its_ack_carry_the_frames_id_payload_retries_and_event_type() {
        // Read by the scan; read by serde (an escape in the reason makes the scan unsure).
        let frames = [
            r#"{"envelope_id":"e-1","type":"events_api","payload":{"a":1},"retry_attempt":2,"retry_reason":"timeout"}"#,
            r#"{"envelope_id":"e-1","type":"events_api","payload":{"a":1},"retry_attempt":2,"retry_reason":"time\u006fut"}"#,
        ];
        for (i, text) in frames.into_iter().enumerate() {
            let mut d = delivered(text, Some("message"));
            assert_eq!(d.frame.retry().is_some(), i == 0, "read by the scan only without the escape");
            let (req, ack) = request(&mut d, None);
            assert_eq!(req.kind, RequestKind::EventsApi, "{text}");
            assert_eq!(req.envelope_id.as_deref(), Some("e-1"), "{text}");
            assert_eq!(ack.id, None, "an event's ack names the request's id, no copy of its own: {text}");
            assert_eq!(req.payload.as_str(), r#"{"a":1}"#, "{text}");
            assert_eq!((req.retry_attempt, req.retry_reason.as_deref()), (2, Some("timeout")), "{text}");
            assert_eq!(req.event_type.as_deref(), Some("message"), "the session's read, moved on: {text}");
            assert!(ack.event && ack.handle.is_none(), "{text}");
            assert!(req.accepts_response_payload, "{text}");
        }
        // Not an event: no event type taken, an empty reason is none, no payload is `null`.
        let mut d =
            delivered(r#"{"envelope_id":"c-9","type":"slash_commands","retry_reason":""}"#, Some("x"));
        let (req, ack) = request(&mut d, None);
        assert_eq!((req.kind, req.envelope_id.as_deref()), (RequestKind::SlashCommands, Some("c-9")));
        assert_eq!((req.retry_attempt, req.retry_reason.as_deref(), req.payload.as_str()), (0, None, "null"));
        assert_eq!(req.event_type, None);
        assert!(!ack.event && ack.id.as_deref() == Some("c-9"), "a command's ack keeps its id");
        // An id that is no plain string in the frame is no envelope to the session's scan.
        assert!(EnvelopeFrame::new(r#"{"envelope_id":"e\u002d1","type":"events_api"}"#.into()).is_err());
    }

    /// An event's ack, as the dispatcher takes it: sent (here: nothing owed, no handle) and
    /// consumed; a command's given back untouched for its listener. One the dispatcher does
    /// not take is named first by its request, so that it can be released or sent by id.
    #[test]
    fn an_events_ack_is_taken_by_the_dispatcher_and_named_when_it_is_kept_back() {
        let text = r#"{"envelope_id":"e-2","type":"events_api","payload":{}}"#;
        let (req, ack) = request(&mut delivered(text, None), None);
        let id = req.envelope_id.clone();
        assert!(matches!(ack.ack_empty_now_of(id.as_ref(), DispatcherOnly(())), Ok(Ok(()))));
        let (req, ack) = request(&mut delivered(text, None), None);
        let named = ack.named(&req);
        assert_eq!(named.id.as_deref(), Some("e-2"), "kept back: it can be released by id");
        let text = r#"{"envelope_id":"c-3","type":"slash_commands","payload":{}}"#;
        let (req, ack) = request(&mut delivered(text, None), None);
        let back =
            ack.ack_empty_now_of(req.envelope_id.as_ref(), DispatcherOnly(())).expect_err("given back");
        assert_eq!((back.event, back.id.as_deref()), (false, Some("c-3")));
        assert_eq!(back.named(&req).id.as_deref(), Some("c-3"), "its own id kept");
    }

    #[test]
    fn a_socket_mode_app_starts_inline_unless_told_not_to() {
        assert!(starts_inline(&App::new().config));
        for on in [false, true] {
            let mut app = App::new();
            app.start_inline(on);
            assert_eq!(starts_inline(&app.config), on, "as set");
        }
    }

    #[test]
    fn an_app_session_gets_the_apps_byte_budget_for_its_runtime_unless_one_was_set() {
        let b = app_builder(SocketModeClient::builder("xapp-1-A1-1-x"), true);
        assert_eq!(b.capacity_bytes_set(), Some(APP_CAPACITY_BYTES));
        assert!(b.capacity_bytes_set().is_some_and(|n| n < 512 * 1024), "less than a raw consumer's default");
        let b = app_builder(SocketModeClient::builder("xapp-1-A1-1-x").capacity_bytes(1 << 20), true);
        assert_eq!(b.capacity_bytes_set(), Some(1 << 20), "the caller's budget is kept");
        let b = app_builder(SocketModeClient::builder("xapp-1-A1-1-x"), false);
        assert_eq!(
            b.capacity_bytes_set(),
            Some(APP_CAPACITY_BYTES_MULTI_THREAD),
            "the multi-thread runtime's"
        );
        assert!(
            b.capacity_bytes_set().is_some_and(|n| APP_CAPACITY_BYTES < n && n < 512 * 1024),
            "between the current-thread app's and a raw consumer's default"
        );
        let b = app_builder(SocketModeClient::builder("xapp-1-A1-1-x").capacity_bytes(1 << 20), false);
        assert_eq!(b.capacity_bytes_set(), Some(1 << 20), "the caller's budget is kept");
    }
}
