//! `App::start_inline`: a request's middleware and listeners start on the receiver's task,
//! and only a request that has to wait gets a task of its own — with every rule of the
//! dispatcher kept (the ack first, the concurrency bound, panics caught).

mod app_support;

use app_support::{Acks, Log, dispatcher, log_start_and_end, message, send, settle, start_on_emulator};
use slack_rtm::app::{App, ListenerError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// An app whose message listener counts, after checking that its event was acked first.
fn counting(inline: bool, acks: &Acks) -> (App, Arc<AtomicUsize>) {
    let handled = Arc::new(AtomicUsize::new(0));
    let mut app = App::new();
    app.start_inline(inline);
    let (h, a) = (handled.clone(), acks.clone());
    app.message("", move |_, ctx| {
        assert!(ctx.is_acked(), "the event is acked before its listener runs");
        assert_eq!(a.all().len(), h.load(Ordering::SeqCst) + 1, "acked once, before the listener");
        h.fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    });
    (app, handled)
}

#[tokio::test(start_paused = true)]
async fn started_inline_a_quick_listener_has_run_when_dispatch_returns() {
    let acks = Acks::default();
    let (app, handled) = counting(true, &acks);
    let d = dispatcher(app);
    for n in 1..=3 {
        send(&d, message("U1", "C1", "hi"), &acks).await;
        // No yield since: it ran on this task, and holds no slot any more.
        assert_eq!(handled.load(Ordering::SeqCst), n);
        assert_eq!(d.in_flight(), 0);
    }
    assert_eq!(acks.all().len(), 3);
    // Off (the default), the same listener runs on its own task, after `dispatch` returned.
    let acks = Acks::default();
    let (app, handled) = counting(false, &acks);
    let d = dispatcher(app);
    send(&d, message("U1", "C1", "hi"), &acks).await;
    assert_eq!(handled.load(Ordering::SeqCst), 0);
    settle().await;
    assert_eq!(handled.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn started_inline_a_waiting_listener_goes_on_in_its_task_and_holds_its_slot() {
    let log: Log = Arc::default();
    let mut app = App::new();
    app.start_inline(true).concurrency(1);
    log_start_and_end(&mut app, &log, |_| Duration::from_secs(1));
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, message("U1", "C1", "one"), &acks).await;
    assert_eq!(*log.lock().unwrap(), ["start one"], "started inline, up to its wait");
    assert_eq!(d.in_flight(), 1, "still holds its slot while it waits");
    let second = tokio::time::timeout(
        Duration::from_millis(500),
        d.dispatch(message("U1", "C1", "two"), acks.acknowledger()),
    );
    assert!(second.await.is_err(), "the bound holds: the second waits for the slot");
    assert_eq!(acks.all().len(), 1, "an event waiting for a slot is not acked");
    send(&d, message("U1", "C1", "two"), &acks).await;
    assert_eq!(*log.lock().unwrap(), ["start one", "end one", "start two"], "the first went on in its task");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(log.lock().unwrap().last().map(String::as_str), Some("end two"));
    assert_eq!(d.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn started_inline_a_panic_is_caught_and_reported_and_the_next_request_runs() {
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let handled = Arc::new(AtomicUsize::new(0));
    let mut app = App::new();
    app.start_inline(true);
    let h = handled.clone();
    app.message("", move |m, _| {
        if m.text.as_deref() == Some("boom") {
            panic!("boom at once");
        }
        h.fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    });
    let f = failures.clone();
    app.error_handler(move |e| {
        let f = f.clone();
        async move {
            if let ListenerError::Panicked { message, .. } = e {
                f.lock().unwrap().push(message);
            }
        }
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, message("U1", "C1", "boom"), &acks).await;
    send(&d, message("U1", "C1", "fine"), &acks).await;
    settle().await;
    assert_eq!(*failures.lock().unwrap(), ["boom at once"]);
    assert_eq!(handled.load(Ordering::SeqCst), 1);
    assert_eq!(acks.all().len(), 2, "the panicking request was acked too (before it ran)");
    assert_eq!(d.in_flight(), 0, "the panicking request's slot is free");
}

/// On Socket Mode against the emulator: quick listeners (run inline) and waiting ones (moved
/// to their task) each get every event once, and every envelope is acked once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_inline_on_socket_mode_every_event_is_handled_and_acked_once() {
    const T: Duration = Duration::from_secs(10);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut app = App::new();
    app.start_inline(true);
    app.message("", move |m, _| {
        let tx = tx.clone();
        async move {
            let text = m.text.unwrap_or_default();
            if text.starts_with("slow") {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tx.send(text).unwrap();
            Ok(())
        }
    });
    let (emu, running, _web) = start_on_emulator(app).await;
    let (alice, ch) = (emu.user(&emu.second_user().user), emu.general_channel());
    let sent: Vec<String> =
        (0..20).map(|i| if i % 3 == 0 { format!("slow {i}") } else { format!("quick {i}") }).collect();
    for text in &sent {
        alice.say(&ch, text).unwrap();
    }
    app_support::each_handled_and_acked_once(&emu, &mut rx, &sent).await;
    assert!(running.shutdown(T).await);
}

/// On Socket Mode with its one slot taken, the app waits for the slot before it takes the next
/// envelope (handed over once a slot is free, not before: it is neither acked nor handled
/// meanwhile); then every event is handled once and every envelope acked once. Both with and
/// without `start_inline`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_socket_mode_a_full_app_waits_for_a_slot_then_handles_and_acks_each_once() {
    const T: Duration = Duration::from_secs(10);
    for inline in [false, true] {
        let gate = Arc::new(Semaphore::new(0));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut app = App::new();
        app.start_inline(inline).concurrency(1);
        let g = gate.clone();
        app.message("", move |m, _| {
            let (tx, g) = (tx.clone(), g.clone());
            async move {
                let text = m.text.unwrap_or_default();
                if text == "hold" {
                    g.acquire().await?.forget();
                }
                tx.send(text).unwrap();
                Ok(())
            }
        });
        let (emu, running, _web) = start_on_emulator(app).await;
        let (alice, ch) = (emu.user(&emu.second_user().user), emu.general_channel());
        let sent: Vec<String> = ["hold", "a", "b", "c"].map(String::from).to_vec();
        for text in &sent {
            alice.say(&ch, text).unwrap();
        }
        // "hold" took the slot (its envelope acked), and keeps it: "a" waits for it.
        let deadline = tokio::time::Instant::now() + T;
        while emu.envelopes().iter().filter(|r| r.acked).count() == 0 {
            assert!(tokio::time::Instant::now() < deadline, "hold not acked: {:?}", emu.envelopes());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            tokio::time::timeout(Duration::from_millis(300), rx.recv()).await.is_err(),
            "inline {inline}"
        );
        assert_eq!(
            emu.envelopes().iter().filter(|r| r.acked).count(),
            1,
            "inline {inline}: one slot, one taken"
        );
        assert_eq!(running.dispatcher().in_flight(), 1);
        gate.add_permits(1);
        app_support::each_handled_and_acked_once(&emu, &mut rx, &sent).await;
        assert!(running.shutdown(T).await);
    }
}

/// Which task ran each request's listener, on Socket Mode against the emulator, for `sent`
/// messages (each handled once).
async fn listener_tasks(inline: Option<bool>, sent: usize) -> Vec<tokio::task::Id> {
    const T: Duration = Duration::from_secs(10);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut app = App::new();
    if let Some(on) = inline {
        app.start_inline(on);
    }
    app.message("", move |m, _| {
        let tx = tx.clone();
        // The synchronous part: the task it runs on.
        let task = tokio::task::try_id();
        async move {
            tx.send((m.text.unwrap_or_default(), task)).unwrap();
            Ok(())
        }
    });
    let (emu, running, _web) = start_on_emulator(app).await;
    let (alice, ch) = (emu.user(&emu.second_user().user), emu.general_channel());
    for i in 0..sent {
        alice.say(&ch, &format!("m{i}")).unwrap();
    }
    let mut got = Vec::new();
    while got.len() < sent {
        got.push(tokio::time::timeout(T, rx.recv()).await.unwrap().unwrap());
    }
    assert!(running.shutdown(T).await);
    let mut texts: Vec<_> = got.iter().map(|(t, _)| t.clone()).collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), sent, "each once");
    got.into_iter().map(|(_, task)| task.expect("in a task")).collect()
}

fn distinct(ids: &[tokio::task::Id]) -> usize {
    ids.iter().collect::<std::collections::HashSet<_>>().len()
}

/// On the current-thread runtime a Socket Mode app starts its requests inline unless told
/// otherwise: every quick listener runs on the one task that reads the envelopes.
#[tokio::test]
async fn on_the_current_thread_runtime_socket_mode_starts_inline_by_default() {
    assert_eq!(distinct(&listener_tasks(None, 6).await), 1, "inline: the pump's task");
    assert_eq!(distinct(&listener_tasks(Some(false), 6).await), 6, "told not to: a task each");
}

/// The same on the multi-thread runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_multi_thread_runtime_socket_mode_starts_inline_by_default() {
    assert_eq!(distinct(&listener_tasks(None, 6).await), 1, "inline: the pump's task");
    assert_eq!(distinct(&listener_tasks(Some(false), 6).await), 6, "told not to: a task each");
}

/// On Socket Mode, started inline: a request's record and its fallback's box are kept for the
/// next request once it is done, never while someone still holds them. The fallback keeps
/// every other request's `Context` (and some of its futures wait, finishing in their own
/// task): each kept `Context` still reads its own event afterwards, and every event is handled
/// and acked once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_inline_a_kept_context_reads_its_own_request_after_later_ones() {
    const T: Duration = Duration::from_secs(10);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let kept: Arc<Mutex<Vec<(String, slack_rtm::app::Context)>>> = Arc::default();
    let mut app = App::new();
    app.start_inline(true).ignore_self(false);
    let k = kept.clone();
    app.fallback(move |ctx| {
        let (tx, kept) = (tx.clone(), k.clone());
        async move {
            let text = ctx.body()["event"]["text"].as_str().unwrap_or_default().to_owned();
            if text.starts_with("slow") {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if text.ends_with(['0', '2', '4', '6', '8']) {
                kept.lock().unwrap().push((text.clone(), ctx));
            }
            tx.send(text).unwrap();
            Ok(())
        }
    });
    let (emu, running, _web) = start_on_emulator(app).await;
    let (alice, ch) = (emu.user(&emu.second_user().user), emu.general_channel());
    let sent: Vec<String> =
        (0..30).map(|i| if i % 7 == 0 { format!("slow {i}") } else { format!("quick {i}") }).collect();
    for text in &sent {
        alice.say(&ch, text).unwrap();
    }
    app_support::each_handled_and_acked_once(&emu, &mut rx, &sent).await;
    let kept = std::mem::take(&mut *kept.lock().unwrap());
    assert_eq!(kept.len(), 15);
    let mut ids = std::collections::HashSet::new();
    for (text, ctx) in &kept {
        assert_eq!(ctx.body()["event"]["text"], text.as_str(), "a kept context reads its own event");
        assert!(ctx.payload().as_str().contains(text.as_str()));
        assert!(ids.insert(ctx.envelope_id().expect("an envelope id").to_owned()), "its own envelope id");
    }
    assert!(running.shutdown(T).await);
}
