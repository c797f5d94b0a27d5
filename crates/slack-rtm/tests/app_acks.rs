//! The ack rules of `App`, on tokio's paused clock: acked once, a second ack is a typed error,
//! a slow listener is acked empty at the deadline and its late ack is refused, events are
//! acked before their listener runs, a panicking listener is acked and the app goes on.

mod app_support;

use app_support::*;
use serde_json::json;
use slack_rtm::app::{AckError, AckFuture, Acknowledger, App, ListenerError, MessageResponse, ViewResponse};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

#[tokio::test(start_paused = true)]
async fn a_second_ack_is_a_typed_error_and_only_the_first_is_sent() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.command("/echo", move |cmd, ack, _| {
        let tx = tx.clone();
        async move {
            let first = ack.ack_with(MessageResponse::text(cmd.text)).await;
            let second = ack.ack().await;
            tx.send((first.is_ok(), second)).unwrap();
            Ok(())
        }
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, command("/echo", "hi"), &acks).await;
    let (first_ok, second) = rx.recv().await.unwrap();
    assert!(first_ok);
    assert!(matches!(second, Err(AckError::AlreadyAcked)), "{second:?}");
    settle().await;
    let all = acks.all();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].body, Some(json!({"text": "hi"})));
}

#[tokio::test(start_paused = true)]
async fn a_slow_listener_is_acked_empty_at_the_deadline_and_its_late_ack_is_refused() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.command("/slow", move |_, ack, _| {
        let tx = tx.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            let late = ack.ack_with(MessageResponse::text("too late")).await;
            // The listener goes on after its (refused) ack.
            tx.send(late).unwrap();
            Ok(())
        }
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    let sent = send(&d, command("/slow", ""), &acks).await;
    let late = rx.recv().await.unwrap();
    assert!(matches!(late, Err(AckError::TooLate(w)) if w == Duration::from_millis(2500)), "{late:?}");
    let all = acks.all();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].body, None);
    assert_eq!(all[0].at - sent, Duration::from_millis(2500), "acked 3 s minus the default 500 ms margin");
}

#[tokio::test(start_paused = true)]
async fn the_ack_margin_is_configurable() {
    let mut app = App::new();
    app.ack_margin(Duration::from_millis(1200));
    app.shortcut("s", |_, _, _| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(())
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    let sent =
        send(&d, interactive(json!({"type": "shortcut", "callback_id": "s", "user": {"id": "U1"}})), &acks)
            .await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let all = acks.all();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].at - sent, Duration::from_millis(1800));
}

#[tokio::test(start_paused = true)]
async fn a_listener_that_acks_in_time_is_not_acked_again_at_the_deadline() {
    let mut app = App::new();
    app.view_submission("form", |_, ack, _| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        ack.ack_with(ViewResponse::Clear).await?;
        tokio::time::sleep(Duration::from_secs(10)).await; // works on after its ack
        Ok(())
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    let view =
        json!({"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "form"}});
    let sent = send(&d, interactive(view), &acks).await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    let all = acks.all();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].body, Some(json!({"response_action": "clear"})));
    assert_eq!(all[0].at - sent, Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn a_listener_that_returns_without_acking_is_acked_empty_then() {
    let mut app = App::new();
    app.action("approve", |_, _, _| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(())
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    let sent = send(&d, block_action("approve", "b"), &acks).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let all = acks.all();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!((all[0].body.clone(), all[0].at - sent), (None, Duration::from_millis(300)));
}

#[tokio::test(start_paused = true)]
async fn events_are_acked_before_their_listener_runs() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.message("hello", move |_, ctx| {
        let tx = tx.clone();
        async move {
            tx.send(ctx.is_acked()).unwrap();
            Ok(())
        }
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, message("U1", "C1", "hello there"), &acks).await;
    assert!(rx.recv().await.unwrap(), "the event was acked before the listener ran");
    assert_eq!(acks.all().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_listener_is_caught_acked_and_reported_and_the_app_goes_on() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let mut app = App::new();
    app.command("/boom", |_, _, _| async move { panic!("boom") });
    app.command("/ok", |_, ack, _| async move { Ok(ack.ack_with(MessageResponse::text("fine")).await?) });
    let seen = errors.clone();
    app.error_handler(move |e| {
        let seen = seen.clone();
        async move { seen.lock().unwrap().push(e) }
    });
    let d = dispatcher(app);
    let (boom, ok) = (Acks::default(), Acks::default());
    send(&d, command("/boom", ""), &boom).await;
    settle().await;
    send(&d, command("/ok", ""), &ok).await;
    settle().await;
    assert_eq!(boom.all().len(), 1, "the panicking listener's command was acked");
    assert_eq!(boom.all()[0].body, None);
    assert_eq!(ok.all()[0].body, Some(json!({"text": "fine"})));
    let errors = errors.lock().unwrap();
    assert!(
        matches!(&errors[..], [ListenerError::Panicked { listener, message }] if listener == "command /boom" && message == "boom"),
        "{errors:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_listener_error_goes_to_the_error_handler() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.message("x", |_, _| async move { Err("it failed".into()) });
    app.error_handler(move |e| {
        let tx = tx.clone();
        async move { tx.send(e.to_string()).unwrap() }
    });
    let d = dispatcher(app);
    send(&d, message("U1", "C1", "x"), &Acks::default()).await;
    assert_eq!(rx.recv().await.unwrap(), "listener `message \"x\"` failed: it failed");
}

#[tokio::test(start_paused = true)]
async fn a_receiver_without_response_payloads_refuses_ack_with_and_acks_empty() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.command("/echo", move |_, ack, _| {
        let tx = tx.clone();
        async move {
            tx.send(ack.ack_with(MessageResponse::text("x")).await).unwrap();
            Ok(())
        }
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, command("/echo", "x").with_response_payload(false), &acks).await;
    assert!(matches!(rx.recv().await.unwrap(), Err(AckError::NoResponsePayload)));
    settle().await;
    let all = acks.all();
    assert_eq!((all.len(), all[0].body.clone()), (1, None));
}

#[tokio::test(start_paused = true)]
async fn what_no_listener_takes_is_acked_and_handed_to_the_fallback() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.fallback(move |ctx| {
        let tx = tx.clone();
        async move {
            tx.send(ctx.request_type().map(str::to_owned)).unwrap();
            Ok(())
        }
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, block_action("nobody", "b"), &acks).await;
    send(&d, command("/unknown", ""), &acks).await;
    assert_eq!(rx.recv().await.unwrap().as_deref(), Some("block_actions"));
    assert_eq!(rx.recv().await.unwrap().as_deref(), Some("/unknown"));
    settle().await;
    assert_eq!(acks.all().len(), 2);
    assert!(acks.all().iter().all(|a| a.body.is_none()));
}

#[tokio::test(start_paused = true)]
async fn the_deadline_warning_names_the_slow_listener() {
    let (logs, _guard) = capture_logs();
    let mut app = App::new();
    app.command("/report", |_, _, _| async move {
        tokio::time::sleep(Duration::from_secs(4)).await;
        Ok(())
    });
    let d = dispatcher(app);
    send(&d, command("/report", ""), &Acks::default()).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let out = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let warning = out.lines().find(|l| l.contains("did not ack in time")).unwrap_or_else(|| panic!("{out}"));
    assert!(warning.contains("WARN") && warning.contains("listener=command /report"), "{warning}");
}

/// An event's ack that does not complete at once (the receiver's write still under way) is
/// awaited before the event's middleware and listener run; once it completed, the event is
/// acked for them and a second ack is refused. Sent once.
#[tokio::test(start_paused = true)]
async fn an_event_ack_still_under_way_is_awaited_before_its_middleware_runs() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.middleware(move |ctx: slack_rtm::app::Context, next: slack_rtm::app::Next| {
        let tx = tx.clone();
        async move {
            let again = ctx.ack().await;
            tx.send((
                tokio::time::Instant::now(),
                ctx.is_acked(),
                matches!(again, Err(AckError::AlreadyAcked)),
            ))
            .unwrap();
            next.run(ctx).await
        }
    });
    app.message("hello", |_, _| async { Ok(()) });
    let d = dispatcher(app);
    let sent = Arc::new(Mutex::new(Vec::new()));
    let (log, start) = (sent.clone(), tokio::time::Instant::now());
    let slow = move |body: Option<serde_json::Value>| -> slack_rtm::app::AckFuture {
        let log = log.clone();
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            log.lock().unwrap().push((body, tokio::time::Instant::now()));
            Ok(())
        })
    };
    d.dispatch(message("U1", "C1", "hello there"), Box::new(slow)).await.unwrap();
    let (ran_at, acked, refused) = rx.recv().await.unwrap();
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "acked once");
    assert!(sent[0].0.is_none(), "an event's ack is empty");
    assert!(sent[0].1 - start >= Duration::from_millis(200));
    assert!(ran_at >= sent[0].1, "the middleware ran after the ack completed");
    assert!(acked && refused, "the middleware sees the event acked; its own ack is refused");
}

/// An event whose ack failed is still handed to its listeners (it was taken), and the failure
/// does not stop later events.
#[tokio::test(start_paused = true)]
async fn an_event_whose_ack_failed_is_still_handled() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    texts_to(&mut app, tx);
    let d = dispatcher(app);
    let failing = |_: Option<serde_json::Value>| -> slack_rtm::app::AckFuture {
        Box::pin(async { Err("the socket is gone".into()) })
    };
    d.dispatch(message("U1", "C1", "one"), Box::new(failing)).await.unwrap();
    let acks = Acks::default();
    send(&d, message("U1", "C1", "two"), &acks).await;
    let mut got = vec![rx.recv().await.unwrap(), rx.recv().await.unwrap()];
    got.sort();
    assert_eq!(got, ["one", "two"]);
    assert_eq!(acks.all().len(), 1);
}

/// Each kind of request no listener takes is logged once, however the kinds alternate.
#[tokio::test(start_paused = true)]
async fn each_unhandled_kind_is_logged_once() {
    let (logs, _guard) = capture_logs();
    let d = dispatcher(App::new());
    let acks = Acks::default();
    let kinds = ["pin_added", "pin_added", "star_added", "pin_added", "star_added", "star_added"];
    for kind in kinds {
        send(&d, event(json!({"type": kind, "user": "U1", "channel": "C1"})), &acks).await;
        settle().await;
    }
    send(&d, command("/unknown", ""), &acks).await;
    send(&d, command("/unknown", ""), &acks).await;
    settle().await;
    assert_eq!(acks.all().len(), kinds.len() + 2);
    let out = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let logged: Vec<&str> = out.lines().filter(|l| l.contains("no listener for this kind")).collect();
    assert_eq!(logged.len(), 3, "{out}");
    for kind in ["events_api/pin_added", "events_api/star_added", "slash_commands//unknown"] {
        assert_eq!(logged.iter().filter(|l| l.contains(kind)).count(), 1, "{kind}: {out}");
    }
}

/// What a listener or the fallback logs is in the request's span, which names the request's
/// kind and type and the listener that took it (recorded once the request was matched).
#[tokio::test(start_paused = true)]
async fn a_requests_logs_are_in_its_span_naming_its_listener() {
    let (logs, _guard) = capture_logs();
    let mut app = App::new();
    app.command("/report", |_, _, _| async move {
        tracing::info!("the listener runs");
        Ok(())
    });
    app.fallback(|_ctx| async {
        tracing::info!("the fallback runs");
        Ok(())
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, command("/report", ""), &acks).await;
    send(&d, event(json!({"type": "pin_added", "user": "U1", "channel": "C1"})), &acks).await;
    settle().await;
    assert_eq!(acks.all().len(), 2);
    let out = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = |msg: &str| out.lines().find(|l| l.contains(msg)).unwrap_or_else(|| panic!("{msg}: {out}"));
    let listener = line("the listener runs");
    assert!(
        listener.contains(r#"kind="slash_commands""#) && listener.contains("listener=command /report"),
        "{listener}"
    );
    let fallback = line("the fallback runs");
    for field in [r#"kind="events_api""#, r#"request_type="pin_added""#, "listener=fallback"] {
        assert!(fallback.contains(field), "{field}: {fallback}");
    }
}

/// An acknowledger that can (or cannot) ack empty at once, counting which way each ack went.
#[derive(Clone, Default)]
struct Counting {
    can_now: bool,
    now: Arc<AtomicUsize>,
    later: Arc<AtomicUsize>,
}

impl Acknowledger for Counting {
    fn ack(self: Box<Self>, _body: Option<serde_json::Value>) -> AckFuture {
        self.later.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }

    fn ack_empty_now(&mut self) -> Option<Result<(), slack_rtm_codec::BoxError>> {
        self.can_now.then(|| {
            self.now.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

/// Dispatches with `ack` itself, or boxed as a `Box<dyn Acknowledger>`.
async fn dispatch_as(
    d: &slack_rtm::app::Dispatcher,
    req: slack_rtm::app::AppRequest,
    ack: &Counting,
    by_box: bool,
) {
    if by_box {
        let boxed: Box<dyn Acknowledger> = Box::new(ack.clone());
        d.dispatch(req, boxed).await.unwrap();
    } else {
        d.dispatch(req, ack.clone()).await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn an_event_acked_at_once_by_its_acknowledger_is_acked_once_and_a_command_by_its_listener() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    let t = tx.clone();
    app.event("app_mention", move |_, _| {
        let t = t.clone();
        async move {
            t.send("event").unwrap();
            Ok(())
        }
    });
    app.command("/x", move |_, ack, _| {
        let tx = tx.clone();
        async move {
            ack.ack().await?;
            tx.send("command").unwrap();
            Ok(())
        }
    });
    let d = dispatcher(app);
    let mention =
        || event(json!({"type": "app_mention", "user": "U1", "channel": "C1", "text": "hi", "ts": "1.0"}));
    // Able to ack at once: that call is the ack, `ack` is never called.
    // Each case twice: the acknowledger itself, and boxed as `Box<dyn Acknowledger>` (which
    // forwards both calls).
    for by_box in [false, true] {
        let quick = Counting { can_now: true, ..Counting::default() };
        dispatch_as(&d, mention(), &quick, by_box).await;
        assert_eq!(rx.recv().await, Some("event"));
        settle().await;
        assert_eq!((quick.now.load(Ordering::SeqCst), quick.later.load(Ordering::SeqCst)), (1, 0));
        // Not able to: acked through `ack`, once.
        let slow = Counting::default();
        dispatch_as(&d, mention(), &slow, by_box).await;
        assert_eq!(rx.recv().await, Some("event"));
        settle().await;
        assert_eq!((slow.now.load(Ordering::SeqCst), slow.later.load(Ordering::SeqCst)), (0, 1));
        // A command is acked by its listener (through `ack`), never at once by the dispatcher.
        let cmd = Counting { can_now: true, ..Counting::default() };
        dispatch_as(&d, command("/x", ""), &cmd, by_box).await;
        assert_eq!(rx.recv().await, Some("command"));
        settle().await;
        assert_eq!((cmd.now.load(Ordering::SeqCst), cmd.later.load(Ordering::SeqCst)), (0, 1));
    }
}
