//! An `App` on HTTP over loopback: each request kind through the listeners, acks as
//! responses, the 3 s rule, retries handed over once (per process and across two instances
//! sharing a real Redis), `X-Slack-No-Retry`, shutdown with requests in flight.

mod http_support;

use http_support::*;
use serde_json::{Value, json};
use slack_rtm::app::http::{HttpApp, HttpConfig, HttpServer};
use slack_rtm::app::{
    AckError, App, BotIdentity, MessageResponse, OptionsResponse, RequestKind, ViewResponse,
};
use slack_rtm::types::UserId;
use slack_rtm::{Client, WebClient};
use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{FleetConfig, RedisEventDedupe};
use std::time::Duration;
use tokio::sync::mpsc;

const PATH: &str = "/slack/events";

/// A Web client nobody listens behind (the listeners here never call the Web API).
fn web() -> WebClient {
    Client::builder("xoxb-test").api_url("http://127.0.0.1:9/api/").allow_insecure(true).build_web().unwrap()
}

fn config() -> HttpConfig {
    HttpConfig::new(SECRET).unwrap()
}

async fn serve(app: App, config: HttpConfig) -> HttpApp {
    let dispatcher =
        app.into_dispatcher_with(web(), BotIdentity { user_id: Some(UserId::from("UBOT")), bot_id: None });
    HttpApp::serve(dispatcher, "127.0.0.1:0".parse().unwrap(), config).await.unwrap()
}

fn command(name: &str, text: &str) -> Vec<u8> {
    form(&[("command", name), ("text", text), ("user_id", "U1"), ("channel_id", "C1"), ("team_id", "T1")])
}

fn payload(v: Value) -> Vec<u8> {
    form(&[("payload", &v.to_string())])
}

fn mention(event_id: &str) -> Vec<u8> {
    event_body(
        event_id,
        json!({"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "ts": "1.000001", "channel": "C1"}),
    )
}

/// What the listeners saw: a name, the retry attempt and reason.
type Seen = mpsc::UnboundedReceiver<(String, u32, Option<String>)>;

fn app() -> (App, Seen) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.command(
        "/echo",
        |cmd, ack, _| async move { Ok(ack.ack_with(MessageResponse::text(cmd.text)).await?) },
    );
    let t = tx.clone();
    app.app_mention(move |m, ctx| {
        let t = t.clone();
        async move {
            let _ = t.send((
                format!("mention {}", m.text),
                ctx.retry_attempt(),
                ctx.retry_reason().map(str::to_owned),
            ));
            Ok(())
        }
    });
    let t = tx.clone();
    app.action("approve", move |_, ack, _| {
        let t = t.clone();
        async move {
            ack.ack().await?;
            let _ = t.send(("approve".into(), 0, None));
            Ok(())
        }
    });
    app.view_submission("form", |_, ack, _| async move {
        Ok(ack.ack_with(ViewResponse::errors([("name", "Please enter a name")])).await?)
    });
    app.options("pick", |req, ack, _| async move {
        let all = ["apple", "banana", "cherry"];
        Ok(ack
            .ack_with(OptionsResponse::from_values(
                all.into_iter().filter(|f| f.contains(req.value.as_str())),
            ))
            .await?)
    });
    let t = tx;
    app.fallback(move |ctx| {
        let t = t.clone();
        async move {
            if let RequestKind::Other(kind) = ctx.kind() {
                let _ = t.send((format!("fallback {kind}"), 0, None));
            }
            Ok(())
        }
    });
    (app, rx)
}

#[tokio::test]
async fn each_kind_through_the_listeners_with_acks_as_responses() {
    let (app, mut seen) = app();
    let running = serve(app, config()).await;
    let addr = running.local_addr();
    assert_eq!(running.url(), format!("http://{addr}{PATH}"));

    let a =
        post(addr, PATH, JSON, br#"{"token":"t","challenge":"c-1","type":"url_verification"}"#, &[]).await;
    assert_eq!((a.status, a.text().as_str()), (200, "c-1"));

    let a = post(addr, PATH, FORM, &command("/echo", "hello there"), &[]).await;
    assert_eq!((a.status, a.json()), (200, json!({"text": "hello there"})));
    assert_eq!(a.header("content-type"), Some("application/json"));

    let a = post(addr, PATH, JSON, &mention("Ev1"), &[]).await;
    assert_eq!((a.status, a.body.len()), (200, 0));
    assert_eq!(seen.recv().await.unwrap(), ("mention <@UBOT> hi".to_owned(), 0, None));

    let action = json!({"type": "block_actions", "user": {"id": "U1"}, "team": {"id": "T1"}, "channel": {"id": "C1"},
        "actions": [{"type": "button", "action_id": "approve", "block_id": "b", "value": "v"}]});
    let a = post(addr, PATH, FORM, &payload(action), &[]).await;
    assert_eq!((a.status, a.body.len()), (200, 0));
    assert_eq!(seen.recv().await.unwrap().0, "approve");

    let view =
        json!({"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "form"}});
    let a = post(addr, PATH, FORM, &payload(view), &[]).await;
    assert_eq!(a.json(), json!({"response_action": "errors", "errors": {"name": "Please enter a name"}}));

    let suggestion = json!({"type": "block_suggestion", "action_id": "pick", "block_id": "b", "value": "an", "user": {"id": "U1"}});
    let a = post(addr, PATH, FORM, &payload(suggestion), &[]).await;
    let options = a.json()["options"].clone();
    let values: Vec<&str> = options.as_array().unwrap().iter().filter_map(|o| o["value"].as_str()).collect();
    assert_eq!(values, ["banana"]);

    let limited = br#"{"token":"t","type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}"#;
    assert_eq!(post(addr, PATH, JSON, limited, &[]).await.status, 200);
    assert_eq!(seen.recv().await.unwrap().0, "fallback app_rate_limited");

    // A bad signature reaches no listener.
    let mut h = signature(unix_now(), b"other");
    h.push(("Content-Type".into(), JSON.into()));
    assert_eq!(raw(addr, "POST", PATH, &h, &mention("Ev9")).await.status, 401);
    assert!(running.shutdown(Duration::from_secs(2)).await);
    assert!(seen.try_recv().is_err(), "nothing else reached a listener");
}

#[tokio::test]
async fn a_retry_is_handed_over_once_with_its_headers_in_the_context() {
    let (app, mut seen) = app();
    let running = serve(app, config()).await;
    let addr = running.local_addr();
    assert_eq!(post(addr, PATH, JSON, &mention("Ev1"), &[]).await.status, 200);
    assert_eq!(seen.recv().await.unwrap().1, 0);
    // Slack retries the same event_id: answered 200, not handed over again.
    let retry = [("X-Slack-Retry-Num", "1"), ("X-Slack-Retry-Reason", "http_timeout")];
    assert_eq!(post(addr, PATH, JSON, &mention("Ev1"), &retry).await.status, 200);
    // A retry whose first delivery never arrived here is handed over, its headers in the context.
    assert_eq!(post(addr, PATH, JSON, &mention("Ev2"), &retry).await.status, 200);
    let (_, attempt, reason) = seen.recv().await.unwrap();
    assert_eq!((attempt, reason.as_deref()), (1, Some("http_timeout")));
    assert!(running.shutdown(Duration::from_secs(2)).await);
    assert!(seen.try_recv().is_err(), "Ev1 was handed over twice");
}

/// The 3 s rule on tokio's paused clock: a listener that has not acked by 2.5 s is acked
/// empty for it (the HTTP answer goes out), and its late ack is refused.
#[tokio::test(start_paused = true)]
async fn a_slow_listener_is_acked_empty_before_slacks_3_s() {
    let (tx, mut late) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.command("/slow", move |_, ack, _| {
        let tx = tx.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(4)).await;
            let _ = tx.send(ack.ack_with(MessageResponse::text("too late")).await);
            Ok(())
        }
    });
    let running = serve(app, config().read_timeout(Duration::from_secs(3600))).await;
    let addr = running.local_addr();
    let started = tokio::time::Instant::now();
    let a = post(addr, PATH, FORM, &command("/slow", ""), &[]).await;
    let waited = started.elapsed();
    assert_eq!((a.status, a.body.len()), (200, 0), "{}", a.text());
    // On the virtual clock: answered at the app's deadline (3 s − 500 ms margin), not after.
    assert!(waited >= Duration::from_millis(2500) && waited < Duration::from_secs(3), "{waited:?}");
    assert!(matches!(late.recv().await.unwrap(), Err(AckError::TooLate(_))));
    running.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn shutdown_answers_the_requests_in_flight() {
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let (release_tx, release) = tokio::sync::watch::channel(false);
    let mut app = App::new();
    app.command("/wait", move |cmd, ack, _| {
        let (entered_tx, mut release) = (entered_tx.clone(), release.clone());
        async move {
            let _ = entered_tx.send(());
            let _ = release.wait_for(|r| *r).await;
            Ok(ack.ack_with(MessageResponse::text(cmd.text)).await?)
        }
    });
    let running = serve(app, config()).await;
    let addr = running.local_addr();
    let in_flight = tokio::spawn(async move { post(addr, PATH, FORM, &command("/wait", "done"), &[]).await });
    entered.recv().await.unwrap();
    let stopping = tokio::spawn(running.shutdown(Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still accepting");
    release_tx.send(true).unwrap();
    let a = in_flight.await.unwrap();
    assert_eq!((a.status, a.json()), (200, json!({"text": "done"})));
    assert!(stopping.await.unwrap());
}

#[tokio::test]
async fn a_failed_delivery_can_ask_for_no_retry() {
    for no_retry in [false, true] {
        let (app, _seen) = app();
        let dispatcher = app
            .into_dispatcher_with(web(), BotIdentity { user_id: Some(UserId::from("UBOT")), bot_id: None });
        // The app's service on a server of the test's, as a user mounting it would run it.
        let receiver = config().no_retry_on_failure(no_retry).into_receiver(dispatcher.clone());
        let server = HttpServer::bind("127.0.0.1:0".parse().unwrap(), PATH, receiver).await.unwrap();
        // The app stops taking requests before the server does.
        assert!(dispatcher.shutdown(Duration::from_secs(1)).await);
        let a = post(server.local_addr(), PATH, FORM, &command("/echo", "x"), &[]).await;
        assert_eq!(a.status, 503);
        assert_eq!(a.header("x-slack-no-retry"), no_retry.then_some("1"));
        server.shutdown(Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn two_instances_sharing_redis_hand_an_event_over_once() {
    let redis = RedisServer::start().expect("redis-server starts");
    let fleet = FleetConfig::new(redis.url(), "http-test");
    let (app_a, mut seen_a) = app();
    let (app_b, mut seen_b) = app();
    let a = serve(app_a, config().dedupe(RedisEventDedupe::new(&fleet).unwrap())).await;
    let b = serve(app_b, config().dedupe(RedisEventDedupe::new(&fleet).unwrap())).await;
    // The first delivery lands on A, Slack's retry on B (a load balancer without affinity).
    assert_eq!(post(a.local_addr(), PATH, JSON, &mention("EvShared"), &[]).await.status, 200);
    let retry = [("X-Slack-Retry-Num", "1"), ("X-Slack-Retry-Reason", "http_timeout")];
    assert_eq!(post(b.local_addr(), PATH, JSON, &mention("EvShared"), &retry).await.status, 200);
    // Another event on B is handed over there.
    assert_eq!(post(b.local_addr(), PATH, JSON, &mention("EvOther"), &[]).await.status, 200);
    assert_eq!(seen_a.recv().await.unwrap().1, 0);
    assert_eq!(seen_b.recv().await.unwrap().0, "mention <@UBOT> hi");
    assert!(a.shutdown(Duration::from_secs(2)).await && b.shutdown(Duration::from_secs(2)).await);
    assert!(seen_a.try_recv().is_err());
    assert!(seen_b.try_recv().is_err(), "EvShared was handed over on both instances");
}
