//! How `App` runs listeners: middleware order, stopping and enriching, the built-in
//! self/bot filters, the concurrency bound, order per conversation, graceful shutdown,
//! and which listener takes what. On tokio's paused clock.

mod app_support;

use app_support::*;
use serde_json::json;
use slack_rtm::app::{ActionMatcher, App, Context, ListenerResult, Next, Regex, ShuttingDown};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

fn logger(
    log: &Log,
    name: &'static str,
) -> impl Fn(Context, Next) -> futures_like::Fut + Send + Sync + 'static {
    let log = log.clone();
    move |ctx, next| {
        let log = log.clone();
        Box::pin(async move {
            log.lock().unwrap().push(format!("{name} before"));
            let r = next.run(ctx).await;
            log.lock().unwrap().push(format!("{name} after"));
            r
        })
    }
}

mod futures_like {
    pub type Fut =
        std::pin::Pin<Box<dyn std::future::Future<Output = slack_rtm::app::ListenerResult> + Send>>;
}

#[derive(Clone, Debug, PartialEq)]
struct Tenant(&'static str);

#[tokio::test(start_paused = true)]
async fn middleware_runs_global_first_then_the_listeners_own_around_the_listener() {
    let log: Log = Arc::default();
    let mut app = App::new();
    app.middleware(logger(&log, "global 1"));
    app.middleware(logger(&log, "global 2"));
    let l = log.clone();
    app.command("/x", move |_, ack, _| {
        let l = l.clone();
        async move {
            l.lock().unwrap().push("listener".into());
            Ok(ack.ack().await?)
        }
    })
    .middleware(logger(&log, "route"));
    let d = dispatcher(app);
    send(&d, command("/x", ""), &Acks::default()).await;
    settle().await;
    assert_eq!(
        *log.lock().unwrap(),
        [
            "global 1 before",
            "global 2 before",
            "route before",
            "listener",
            "route after",
            "global 2 after",
            "global 1 after"
        ]
    );
}

/// `Context::listener`: `middleware` in the global chain (no listener chosen yet), the route's
/// label in its own middleware and its listener, and in the context's `Debug`.
#[tokio::test(start_paused = true)]
async fn the_context_names_its_listener_once_one_is_chosen() {
    let log: Log = Arc::default();
    let label = |log: &Log, at: &'static str| {
        let log = log.clone();
        move |ctx: Context, next: Next| {
            let log = log.clone();
            Box::pin(async move {
                log.lock().unwrap().push(format!("{at}: {}", ctx.listener()));
                next.run(ctx).await
            }) as futures_like::Fut
        }
    };
    let mut app = App::new();
    app.middleware(label(&log, "global"));
    let l = log.clone();
    app.command("/x", move |_, ack, ctx| {
        let l = l.clone();
        async move {
            let debug = format!("{ctx:?}");
            l.lock().unwrap().push(format!(
                "listener: {}, debug names it: {}",
                ctx.listener(),
                debug.contains("\"command /x\"")
            ));
            Ok(ack.ack().await?)
        }
    })
    .middleware(label(&log, "route"));
    let d = dispatcher(app);
    send(&d, command("/x", ""), &Acks::default()).await;
    settle().await;
    assert_eq!(
        *log.lock().unwrap(),
        ["global: middleware", "route: command /x", "listener: command /x, debug names it: true"]
    );
}

/// A middleware that builds `next.run(ctx)`, logs, then awaits it (or drops it unpolled when
/// the command's text is "drop").
fn lazy_next(
    log: &Log,
    name: &'static str,
) -> impl Fn(Context, Next) -> futures_like::Fut + Send + Sync + 'static {
    let log = log.clone();
    move |ctx, next| {
        let log = log.clone();
        Box::pin(async move {
            let text = ctx.body()["text"].as_str().unwrap_or_default().to_owned();
            let rest = next.run(ctx);
            log.lock().unwrap().push(format!("{text}: {name} built next"));
            if text == "drop" {
                drop(rest);
                return Ok(());
            }
            rest.await
        })
    }
}

/// `next.run(ctx)` starts the rest of the chain when it is first polled, not when it is
/// called (the dispatcher starts its own chains at once, `Next::start`; a middleware's
/// `next.run` stays lazy): the listener or the fallback is not called for a `next.run`
/// dropped unpolled, and is called after what the middleware did between building
/// `next.run` and awaiting it — at the end of the global chain and of a route's chain.
#[tokio::test(start_paused = true)]
async fn next_run_starts_the_rest_of_the_chain_when_awaited_not_when_called() {
    let log: Log = Arc::default();
    let mut app = App::new();
    app.middleware(lazy_next(&log, "global"));
    let l = log.clone();
    app.command("/x", move |cmd, _, _| {
        // Called (before its future is polled) only when the chain reaches it.
        l.lock().unwrap().push(format!("{}: listener called", cmd.text));
        async { Ok(()) }
    })
    .middleware(lazy_next(&log, "route"));
    let l = log.clone();
    app.fallback(move |ctx| {
        let text = ctx.body()["text"].as_str().unwrap_or_default().to_owned();
        l.lock().unwrap().push(format!("{text}: fallback called"));
        async { Ok(()) }
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    for (name, text) in [("/y", "drop"), ("/y", "unhandled"), ("/x", "await")] {
        send(&d, command(name, text), &acks).await;
        settle().await;
    }
    assert_eq!(
        *log.lock().unwrap(),
        [
            "drop: global built next",
            "unhandled: global built next",
            "unhandled: fallback called",
            "await: global built next",
            "await: route built next",
            "await: listener called"
        ]
    );
    assert_eq!(acks.all().len(), 3, "all acked (empty by the app)");
}

async fn only_tenant_t1(mut ctx: Context, next: Next) -> ListenerResult {
    if ctx.team_id() != Some("T1") {
        return Ok(()); // stop
    }
    ctx.extensions_mut().insert(Tenant("first tenant"));
    next.run(ctx).await
}

#[tokio::test(start_paused = true)]
async fn middleware_can_stop_a_request_or_enrich_it() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.middleware(only_tenant_t1);
    app.command("/x", move |cmd, _, ctx| {
        let tx = tx.clone();
        async move {
            tx.send((cmd.text, ctx.extensions().get::<Tenant>().cloned())).unwrap();
            Ok(())
        }
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, command("/x", "from T1"), &acks).await;
    let mut other = command("/x", "from T2");
    other.payload = slack_rtm::types::RawJson::from_value(
        &json!({"command": "/x", "text": "from T2", "user_id": "U1", "channel_id": "C1", "team_id": "T2"}),
    )
    .unwrap();
    send(&d, other, &acks).await;
    settle().await;
    assert_eq!(rx.recv().await.unwrap(), ("from T1".to_owned(), Some(Tenant("first tenant"))));
    assert!(rx.try_recv().is_err(), "the T2 command was stopped");
    assert_eq!(acks.all().len(), 2, "a stopped command is acked too");
}

#[tokio::test(start_paused = true)]
async fn the_bots_own_messages_are_ignored_by_default_and_other_bots_on_request() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let tx2 = tx.clone();
    let mut app = App::new();
    texts_to(&mut app, tx);
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, message(BOT, "C1", "from me"), &acks).await;
    let app_post = json!({"type": "message", "bot_id": "B9", "app_id": "A1", "channel": "C1", "text": "my app posted", "ts": "2.0"});
    send(&d, event(app_post), &acks).await;
    let other_bot = other_bots_message();
    send(&d, event(other_bot.clone()), &acks).await;
    send(&d, message("U1", "C1", "from a person"), &acks).await;
    settle().await;
    assert_eq!(received(&mut rx), ["another bot", "from a person"]);
    assert_eq!(acks.all().len(), 4, "ignored events are acked");

    let mut app = App::new();
    app.ignore_bots(true);
    texts_to(&mut app, tx2);
    let d = dispatcher(app);
    send(&d, event(other_bot), &acks).await;
    send(&d, message("U1", "C1", "a person again"), &acks).await;
    settle().await;
    assert_eq!(rx.try_recv().ok().as_deref(), Some("a person again"));
    assert!(rx.try_recv().is_err());
}

/// A message another bot posted.
fn other_bots_message() -> serde_json::Value {
    json!({"type": "message", "bot_id": "B2", "subtype": "bot_message", "channel": "C1", "text": "another bot", "ts": "3.0"})
}

/// What the listeners sent so far.
fn received(rx: &mut mpsc::UnboundedReceiver<String>) -> Vec<String> {
    let mut got = Vec::new();
    while let Ok(t) = rx.try_recv() {
        got.push(t);
    }
    got
}

/// The built-in `ignore_self` and `ignore_bots` act first, before the app's own middleware:
/// an event they stop never reaches it (nor a listener), and is acked; the rest pass through
/// the middleware in order.
#[tokio::test(start_paused = true)]
async fn the_built_in_filters_stop_before_the_apps_middleware_runs() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.ignore_bots(true);
    let seen = tx.clone();
    app.middleware(move |ctx: Context, next: Next| {
        let seen = seen.clone();
        async move {
            seen.send(format!("middleware {}", ctx.body()["event"]["text"].as_str().unwrap_or("?"))).unwrap();
            next.run(ctx).await
        }
    });
    texts_to(&mut app, tx);
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, message(BOT, "C1", "from me"), &acks).await;
    send(&d, event(other_bots_message()), &acks).await;
    send(&d, message("U1", "C1", "from a person"), &acks).await;
    settle().await;
    assert_eq!(received(&mut rx), ["middleware from a person", "from a person"]);
    assert_eq!(acks.all().len(), 3, "stopped events are acked");
}

#[tokio::test(start_paused = true)]
async fn at_most_the_bound_runs_at_once_and_dispatch_waits_for_a_slot() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let mut app = App::new();
    app.concurrency(2);
    let g = gate.clone();
    app.message("", move |_, _| {
        let g = g.clone();
        async move {
            g.acquire().await?.forget();
            Ok(())
        }
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, message("U1", "C1", "1"), &acks).await;
    send(&d, message("U1", "C1", "2"), &acks).await;
    settle().await;
    assert_eq!(d.in_flight(), 2);
    let third = tokio::time::timeout(
        Duration::from_secs(60),
        d.dispatch(message("U1", "C1", "3"), acks.acknowledger()),
    );
    assert!(third.await.is_err(), "no slot: the third request waits (the receiver stops reading)");
    assert_eq!(acks.all().len(), 2, "an event waiting for a slot is not acked: the app has not taken it");
    gate.add_permits(1);
    settle().await;
    assert_eq!(d.in_flight(), 1);
    d.dispatch(message("U1", "C1", "3"), acks.acknowledger()).await.unwrap();
    assert_eq!(d.in_flight(), 2);
}

#[tokio::test(start_paused = true)]
async fn ordered_by_conversation_runs_one_channel_in_arrival_order_and_others_alongside() {
    let log: Log = Arc::default();
    let mut app = App::new();
    app.ordered_by_conversation(true);
    log_start_and_end(&mut app, &log, |text| {
        Duration::from_millis(if text.starts_with("slow") { 1000 } else { 10 })
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, message("U1", "C1", "slow C1"), &acks).await;
    send(&d, message("U1", "C1", "fast C1"), &acks).await;
    send(&d, message("U1", "C2", "fast C2"), &acks).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let log = log.lock().unwrap().clone();
    let at = |s: &str| log.iter().position(|x| x == s).unwrap_or_else(|| panic!("{s} in {log:?}"));
    assert!(at("end slow C1") < at("start fast C1"), "{log:?}");
    assert!(at("end fast C2") < at("end slow C1"), "another channel is not held back: {log:?}");
}

#[tokio::test(start_paused = true)]
async fn shutdown_refuses_new_requests_and_waits_for_running_listeners() {
    let done = Arc::new(Mutex::new(false));
    let mut app = App::new();
    let dn = done.clone();
    app.message("", move |_, _| {
        let dn = dn.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            *dn.lock().unwrap() = true;
            Ok(())
        }
    });
    let d = dispatcher(app);
    let acks = Acks::default();
    send(&d, message("U1", "C1", "long"), &acks).await;
    settle().await;
    assert!(d.shutdown(Duration::from_secs(5)).await, "finished within the grace");
    assert!(*done.lock().unwrap());
    let refused = d.dispatch(message("U1", "C1", "late"), acks.acknowledger()).await;
    assert_eq!(refused, Err(ShuttingDown));
    assert_eq!(acks.all().len(), 1, "a refused request is not acked (Slack delivers it again)");
}

#[tokio::test(start_paused = true)]
async fn shutdown_reports_listeners_still_running_after_the_grace() {
    let mut app = App::new();
    app.message("", |_, _| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(())
    });
    let d = dispatcher(app);
    send(&d, message("U1", "C1", "long"), &Acks::default()).await;
    settle().await;
    let (logs, _guard) = capture_logs();
    assert!(!d.shutdown(Duration::from_secs(1)).await);
    let out = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let warning = out.lines().find(|l| l.contains("still running after the shutdown grace")).expect(&out);
    assert!(warning.contains("running=1"), "the one listener still running: {warning}");
    assert_eq!(d.in_flight(), 1, "shutdown holds no slot once it returned");
}

#[tokio::test(start_paused = true)]
async fn each_listener_kind_takes_its_own_requests() {
    let log: Log = Arc::default();
    let mut app = App::new();
    macro_rules! note {
        ($log:expr, $fmt:expr) => {{
            let l = $log.clone();
            move |p, _a, ctx: Context| {
                let l = l.clone();
                let line = $fmt(p, &ctx);
                async move {
                    l.lock().unwrap().push(line);
                    Ok(())
                }
            }
        }};
    }
    let l = log.clone();
    app.message(Regex::new(r"^deploy (?P<what>\w+) to (\w+)$").unwrap(), move |_, ctx| {
        let l = l.clone();
        async move {
            let m = ctx.matches();
            l.lock().unwrap().push(format!("deploy {} {}", m.name("what").unwrap(), m.get(2).unwrap()));
            Ok(())
        }
    });
    let l = log.clone();
    app.event("team_join", move |ev, ctx| {
        let l = l.clone();
        async move {
            l.lock().unwrap().push(format!("{} {}", ev.event_type(), ctx.body()["event"]["user"]["id"]));
            Ok(())
        }
    });
    let l = log.clone();
    app.reaction_added(move |r, _| {
        let l = l.clone();
        async move {
            l.lock().unwrap().push(format!("reaction {}", r.reaction));
            Ok(())
        }
    });
    let l = log.clone();
    app.app_home_opened(move |h, _| {
        let l = l.clone();
        async move {
            l.lock().unwrap().push(format!("home {}", h.user));
            Ok(())
        }
    });
    app.action(
        ActionMatcher::block_id("votes"),
        note!(log, |a: slack_rtm::types::socket_mode::BlockActions, _: &Context| format!(
            "vote {}",
            a.actions[0].action_id
        )),
    );
    app.action(
        Regex::new("^approve_(\\d+)$").unwrap(),
        note!(log, |_, ctx: &Context| format!("approve #{}", ctx.matches().get(1).unwrap())),
    );
    app.shortcut(
        "g",
        note!(log, |s: slack_rtm::types::socket_mode::Shortcut, _: &Context| format!(
            "global {}",
            s.callback_id
        )),
    );
    app.message_shortcut(
        "m",
        note!(log, |s: slack_rtm::types::socket_mode::Shortcut, _: &Context| format!(
            "message shortcut {}",
            s.callback_id
        )),
    );
    app.view_closed("form", note!(log, |_, _: &Context| "closed form".to_owned()));
    app.options(
        "pick",
        note!(log, |s: slack_rtm::types::socket_mode::BlockSuggestion, _: &Context| format!(
            "options {}",
            s.value
        )),
    );
    let d = dispatcher(app);
    let acks = Acks::default();
    for req in [
        message("U1", "C1", "deploy api to prod"),
        message("U1", "C1", "nothing to see"),
        event(json!({"type": "team_join", "user": {"id": "U7"}})),
        event(
            json!({"type": "reaction_added", "user": "U1", "reaction": "tada", "item": {"type": "message", "channel": "C1", "ts": "1.0"}}),
        ),
        event(json!({"type": "app_home_opened", "user": "U3", "tab": "home"})),
        block_action("yes", "votes"),
        block_action("approve_42", "b"),
        block_action("approve_x", "b"),
        interactive(json!({"type": "shortcut", "callback_id": "g", "user": {"id": "U1"}})),
        interactive(json!({"type": "message_action", "callback_id": "m", "user": {"id": "U1"}})),
        interactive(
            json!({"type": "view_closed", "user": {"id": "U1"}, "view": {"id": "V", "callback_id": "form"}}),
        ),
        interactive(
            json!({"type": "block_suggestion", "action_id": "pick", "value": "ap", "user": {"id": "U1"}}),
        ),
    ] {
        send(&d, req, &acks).await;
        settle().await;
    }
    assert_eq!(
        *log.lock().unwrap(),
        [
            "deploy api prod",
            "team_join \"U7\"",
            "reaction tada",
            "home U3",
            "vote yes",
            "approve #42",
            "global g",
            "message shortcut m",
            "closed form",
            "options ap",
        ]
    );
    assert_eq!(acks.all().len(), 12, "every request acked once, matched or not");
}
