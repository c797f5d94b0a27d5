//! `Context::respond` on the wire, through a transport that records what it is given (the
//! emulator's response_url endpoints are covered in app_emulator.rs): JSON, no token, and a
//! 429 waited out for its `Retry-After` (paused clock).

use serde_json::{Value, json};
use slack_rtm::Client;
use slack_rtm::app::{App, AppRequest, BotIdentity, MessageResponse, ReplyError, RequestKind};
use slack_rtm::transport::http::{Request, Response};
use slack_rtm::types::RawJson;
use slack_rtm::types::UserId;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A request the transport saw, and when.
type Seen = Arc<Mutex<Vec<(Request<Vec<u8>>, Instant)>>>;

/// A Web client whose transport answers each request with the next status (then 200); `0`
/// fails the request with a connection-refused `io::Error`.
fn web(seen: &Seen, statuses: Vec<u16>) -> slack_rtm::WebClient {
    let (seen, statuses) = (seen.clone(), Arc::new(Mutex::new(statuses)));
    let transport = move |req: Request<Vec<u8>>| {
        let (seen, statuses) = (seen.clone(), statuses.clone());
        async move {
            seen.lock().unwrap().push((req, Instant::now()));
            let status = { statuses.lock().unwrap().pop() }.unwrap_or(200);
            if status == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "refused by the test",
                ));
            }
            let mut answer = Response::builder().status(status);
            if status == 429 {
                answer = answer.header("retry-after", "2");
            }
            Ok::<_, std::io::Error>(answer.body(b"ok".to_vec()).unwrap())
        }
    };
    Client::builder("xoxb-secret-token").transport(transport).build_web().unwrap()
}

fn command_with_response_url() -> AppRequest {
    let payload = json!({"command": "/r", "text": "", "user_id": "U1", "channel_id": "C1", "team_id": "T1",
        "response_url": "https://hooks.slack.com/commands/T1/1/abc"});
    AppRequest::new(RequestKind::SlashCommands, RawJson::from_value(&payload).unwrap())
}

async fn respond_once(seen: &Seen, statuses: Vec<u16>) -> Result<(), ReplyError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut app = App::new();
    app.command("/r", move |_, ack, ctx| {
        let tx = tx.clone();
        async move {
            ack.ack().await?;
            tx.send(ctx.respond(MessageResponse::in_channel("done")).await).unwrap();
            Ok(())
        }
    });
    let d = app.into_dispatcher_with(
        web(seen, statuses),
        BotIdentity { user_id: Some(UserId::from("UB")), bot_id: None },
    );
    let ack = |_body: Option<Value>| -> slack_rtm::app::AckFuture { Box::pin(async { Ok(()) }) };
    d.dispatch(command_with_response_url(), Box::new(ack)).await.unwrap();
    rx.recv().await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn respond_posts_json_to_the_response_url_without_the_token() {
    let seen = Seen::default();
    respond_once(&seen, vec![]).await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (req, _) = &seen[0];
    assert_eq!(req.method(), "POST");
    assert_eq!(req.uri(), "https://hooks.slack.com/commands/T1/1/abc");
    assert!(req.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert!(req.headers().get("authorization").is_none(), "no token to a response_url");
    let text = String::from_utf8(req.body().clone()).unwrap();
    assert!(!text.contains("xoxb"), "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"response_type": "in_channel", "text": "done"})
    );
}

#[tokio::test(start_paused = true)]
async fn respond_waits_out_a_429_and_sends_again() {
    let seen = Seen::default();
    respond_once(&seen, vec![429]).await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].1 - seen[0].1, Duration::from_secs(2), "Retry-After: 2");
}

#[tokio::test(start_paused = true)]
async fn respond_reports_a_rejected_or_still_limited_url() {
    let seen = Seen::default();
    assert!(matches!(respond_once(&seen, vec![404]).await, Err(ReplyError::Rejected { status: 404, .. })));
    let seen = Seen::default();
    let limited = respond_once(&seen, vec![429, 429, 429]).await;
    assert!(matches!(limited, Err(ReplyError::RateLimited(d)) if d == Duration::from_secs(2)), "{limited:?}");
    assert_eq!(seen.lock().unwrap().len(), 3);
}

/// A transport failure reaches the application as the real error, not a string: the transport's
/// failure is the source, and the transport's own `io::Error` is found down the chain.
#[tokio::test(start_paused = true)]
async fn respond_keeps_the_transport_failure_as_its_source() {
    let seen = Seen::default();
    let e = respond_once(&seen, vec![0]).await.expect_err("the transport failed");
    assert!(matches!(e, ReplyError::Transport(_)), "{e:?}");
    let mut chain = std::error::Error::source(&e);
    let mut found = None;
    while let Some(cause) = chain {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            found = Some(io.kind());
        }
        chain = cause.source();
    }
    assert_eq!(found, Some(std::io::ErrorKind::ConnectionRefused), "{e:?}");
    assert!(e.to_string().contains("refused by the test"), "{e}");
}
