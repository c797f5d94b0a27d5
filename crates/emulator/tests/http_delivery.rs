//! Delivery to a Request URL: a tiny hyper server written here (not the project's receiver)
//! checks what the emulator sends — signatures, encodings, the handshake, retries with their
//! headers — and answers as scripted.

mod common;
use common::*;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use sha2::Sha256;
use slack_rtm_emulator::{EmulatorError, HttpDeliveryConfig, HttpProbe};
use std::collections::VecDeque;
use std::sync::Mutex;

/// What the test server answers next.
#[derive(Clone, Debug)]
enum Reply {
    Status(u16),
    /// 500 with `X-Slack-No-Retry: 1`.
    NoRetry,
    Body(&'static str),
    Slow(Duration),
    Drop,
}

#[derive(Clone, Debug)]
struct Seen {
    headers: http::HeaderMap,
    body: Bytes,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.body).unwrap()
    }
    fn field(&self, name: &str) -> String {
        self.form().into_iter().find(|(k, _)| k == name).map(|(_, v)| v).unwrap_or_default()
    }
}

struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Server {
    fn script(&self, replies: &[Reply]) {
        self.script.lock().unwrap().extend(replies.iter().cloned());
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn valid(secret: &str, headers: &http::HeaderMap, body: &[u8]) -> bool {
    let (Some(ts), Some(sig)) = (headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature"))
    else {
        return false;
    };
    let Ok(ts) = ts.to_str().unwrap_or("").parse::<i64>() else { return false };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    if (now - ts).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:").as_bytes());
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    sig.as_bytes() == format!("v0={hex}").as_bytes()
}

type Resp = http::Response<Full<Bytes>>;

fn reply(status: u16, body: &str) -> Resp {
    http::Response::builder().status(status).body(Full::new(Bytes::from(body.to_owned()))).unwrap()
}

/// A receiver: refuses what a receiver must (405, 415, 413, 401), answers `url_verification`,
/// then plays its script (200 with an empty body when the script is empty).
async fn serve(
    secret: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    req: http::Request<hyper::body::Incoming>,
) -> Result<Resp, std::io::Error> {
    if req.method() != http::Method::POST {
        return Ok(reply(405, ""));
    }
    let ct = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if !ct.starts_with("application/json") && !ct.starts_with("application/x-www-form-urlencoded") {
        return Ok(reply(415, ""));
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    if body.len() > 64 * 1024 {
        return Ok(reply(413, ""));
    }
    if !valid(&secret, &parts.headers, &body) {
        return Ok(reply(401, ""));
    }
    seen.lock().unwrap().push(Seen { headers: parts.headers.clone(), body: body.clone() });
    if let Ok(v) = serde_json::from_slice::<Value>(&body)
        && v["type"] == "url_verification"
    {
        return Ok(reply(200, &json!({"challenge": v["challenge"]}).to_string()));
    }
    let next = script.lock().unwrap().pop_front();
    match next {
        None => Ok(reply(200, "")),
        Some(Reply::Status(s)) => Ok(reply(s, "")),
        Some(Reply::NoRetry) => {
            let mut r = reply(500, "");
            r.headers_mut().insert("x-slack-no-retry", http::HeaderValue::from_static("1"));
            Ok(r)
        }
        Some(Reply::Body(b)) => Ok(reply(200, b)),
        Some(Reply::Slow(d)) => {
            tokio::time::sleep(d).await;
            Ok(reply(200, ""))
        }
        Some(Reply::Drop) => Err(std::io::Error::other("dropped on purpose")),
    }
}

async fn server(secret: String) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slack/events", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(VecDeque::new()));
    let (s2, sc2) = (seen.clone(), script.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (secret, seen, script) = (secret.clone(), s2.clone(), sc2.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req| serve(secret.clone(), seen.clone(), script.clone(), req));
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), svc).await;
            });
        }
    });
    Server { url, seen, script }
}

const T: Duration = Duration::from_secs(5);

fn fast() -> HttpDeliveryConfig {
    let retries = vec![Duration::from_millis(10); 3];
    HttpDeliveryConfig::default().timeout(Duration::from_secs(1)).retry_delays(retries)
}

/// An emulator delivering to a fresh test server.
async fn http_app(config: HttpDeliveryConfig) -> (Emulator, Server) {
    let emu = start(quick().socket_mode(sm()).http_delivery(config)).await;
    let srv = server(emu.signing_secret()).await;
    emu.set_request_url(Some(&srv.url)).await.unwrap();
    (emu, srv)
}

#[tokio::test]
async fn setting_the_request_url_runs_the_url_verification_handshake() {
    let (emu, srv) = http_app(fast()).await;
    assert_eq!(emu.request_url(), Some(srv.url.clone()));
    let seen = srv.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].json()["type"], "url_verification");
    let rec = &emu.http_deliveries()[0];
    assert_eq!((rec.kind.as_str(), rec.status, rec.ok()), ("url_verification", Some(200), true));

    // A server with another secret refuses the handshake's signature: the URL is not taken.
    let other = start(quick()).await;
    let wrong = server("not-the-secret".into()).await;
    assert!(matches!(other.set_request_url(Some(&wrong.url)).await, Err(EmulatorError::RequestUrl(_))));
    assert_eq!(other.request_url(), None);
    assert!(matches!(
        other.set_request_url(Some("https://127.0.0.1:1/x")).await,
        Err(EmulatorError::RequestUrl(_))
    ));
    // The secret never shows in Debug output.
    let config = HttpDeliveryConfig::default().signing_secret("s3cr3t-value");
    assert!(!format!("{config:?}").contains("s3cr3t-value"));
}

#[tokio::test]
async fn an_event_goes_as_signed_json_and_its_200_resolves_the_ack() {
    let (emu, srv) = http_app(fast()).await;
    let said = emu.user(&emu.second_user().user).say(&emu.general_channel(), "ping").unwrap();
    let ack = emu.wait_for_ack(said.seq, T).await.unwrap();
    assert_eq!(ack.payload, None);
    let seen = srv.seen();
    let ev = &seen[1];
    assert_eq!(ev.header("content-type"), Some("application/json"));
    assert!(ev.header("x-slack-retry-num").is_none());
    assert!(ev.header("user-agent").unwrap().starts_with("Slackbot"));
    let body = ev.json();
    assert_eq!(
        (body["type"].as_str(), body["event"]["text"].as_str()),
        (Some("event_callback"), Some("ping"))
    );
    assert_eq!(body["authorizations"][0]["user_id"], json!(emu.bot_user()));
    assert!(emu.envelopes().iter().any(|e| e.seq == said.seq && e.acked));
}

#[tokio::test]
async fn a_command_is_a_form_and_the_answer_is_its_ack() {
    let (emu, srv) = http_app(fast()).await;
    let alice = emu.second_user().user;
    srv.script(&[Reply::Body(r#"{"text":"echo: hi"}"#), Reply::Body("plain words")]);
    let cmd = emu.user(&alice).run_command(&emu.general_channel(), "/echo", "hi");
    let ack = emu.wait_for_ack(cmd.seq, T).await.unwrap();
    assert_eq!(ack.payload, Some(json!({"text": "echo: hi"})));
    let seen = srv.seen();
    assert_eq!(seen[1].header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!((seen[1].field("command"), seen[1].field("text")), ("/echo".into(), "hi".into()));
    assert_eq!(seen[1].field("response_url"), cmd.response_url.unwrap());
    assert_eq!(emu.ephemeral_messages_for(&alice)[0].text.as_deref(), Some("echo: hi"));
    // A plain-text answer is the reply's text, as on Slack.
    let cmd = emu.user(&alice).run_command(&emu.general_channel(), "/echo", "again");
    assert_eq!(emu.wait_for_ack(cmd.seq, T).await.unwrap().payload, Some(json!({"text": "plain words"})));
}

#[tokio::test]
async fn an_interaction_is_a_payload_form_and_a_view_answer_is_applied() {
    let (emu, srv) = http_app(fast()).await;
    let alice = emu.second_user().user;
    let sc = emu.user(&alice).global_shortcut("open_form");
    emu.wait_for_ack(sc.seq, T).await.unwrap();
    let payload: Value = serde_json::from_str(&srv.seen()[1].field("payload")).unwrap();
    assert_eq!(
        (payload["type"].as_str(), payload["callback_id"].as_str()),
        (Some("shortcut"), Some("open_form"))
    );
    let view = json!({"type": "modal", "callback_id": "form", "title": {"type": "plain_text", "text": "F"},
        "blocks": [{"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
                    "element": {"type": "plain_text_input", "action_id": "value"}}]});
    let body = json!({"trigger_id": sc.trigger_id.unwrap(), "view": view}).to_string();
    let r = post(
        &emu,
        "/api/views.open",
        Some("application/json; charset=utf-8"),
        body.as_bytes(),
        Some(&emu.token()),
    )
    .await;
    let view_id = r.json()["view"]["id"].as_str().unwrap().to_owned();
    srv.script(&[Reply::Body(r#"{"response_action":"errors","errors":{"name":"Please enter a name"}}"#)]);
    let sub = emu.user(&alice).submit_view(&view_id, &[("value", "")]).unwrap();
    emu.wait_for_ack(sub.seq, T).await.unwrap();
    assert_eq!(emu.view_errors(&view_id), Some(json!({"name": "Please enter a name"})));
    // The default answer (200, empty) closes it.
    let sub = emu.user(&alice).submit_view(&view_id, &[("value", "Bob")]).unwrap();
    emu.wait_for_ack(sub.seq, T).await.unwrap();
    assert!(emu.open_views(&alice).is_empty());
}

#[tokio::test]
async fn an_event_is_retried_with_each_failures_reason_until_answered() {
    let (emu, srv) = http_app(fast()).await;
    srv.script(&[Reply::Status(500), Reply::Slow(Duration::from_secs(3)), Reply::Drop]);
    let said = emu.user(&emu.second_user().user).say(&emu.general_channel(), "retry me").unwrap();
    emu.wait_for_ack(said.seq, T).await.unwrap();
    let recs: Vec<_> = emu.http_deliveries().into_iter().filter(|r| r.seq == said.seq).collect();
    let got: Vec<_> = recs.iter().map(|r| (r.retry_num, r.retry_reason.clone(), r.failure.clone())).collect();
    assert_eq!(
        got,
        vec![
            (0, None, Some("http_error".into())),
            (1, Some("http_error".into()), Some("http_timeout".into())),
            (2, Some("http_timeout".into()), Some("connection_failed".into())),
            (3, Some("connection_failed".into()), None),
        ]
    );
    // The receiver saw the headers (the timed-out and dropped attempts were read too).
    let seen: Vec<_> = srv.seen().into_iter().skip(1).collect();
    assert_eq!(seen.len(), 4);
    let headers: Vec<_> = seen
        .iter()
        .map(|s| {
            (
                s.header("x-slack-retry-num").map(str::to_owned),
                s.header("x-slack-retry-reason").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(headers[0], (None, None));
    assert_eq!(headers[3], (Some("3".into()), Some("connection_failed".into())));
    // Every attempt carries the same event.
    assert!(seen.iter().all(|s| s.json()["event_id"] == seen[0].json()["event_id"]));
}

#[tokio::test]
async fn no_retry_when_asked_and_commands_are_never_retried() {
    let (emu, srv) = http_app(fast()).await;
    srv.script(&[Reply::NoRetry, Reply::Status(500)]);
    let said = emu.user(&emu.second_user().user).say(&emu.general_channel(), "once").unwrap();
    emu.wait_for_http_deliveries(2, T).await.unwrap();
    let cmd = emu.user(&emu.second_user().user).run_command(&emu.general_channel(), "/x", "");
    emu.wait_for_http_deliveries(3, T).await.unwrap();
    // Retries would come 10 ms apart: none comes.
    assert!(emu.wait_for_http_deliveries(4, Duration::from_millis(300)).await.is_err());
    let recs = emu.http_deliveries();
    assert_eq!((recs[1].seq, recs[1].status, recs[1].no_retry), (said.seq, Some(500), true));
    assert_eq!((recs[2].seq, recs[2].status, recs[2].no_retry), (cmd.seq, Some(500), false));
    assert!(emu.wait_for_ack(cmd.seq, Duration::from_millis(50)).await.is_err());
    let envs = emu.envelopes();
    assert!(envs.iter().filter(|e| e.seq == said.seq || e.seq == cmd.seq).all(|e| e.gave_up && !e.acked));
}

#[tokio::test]
async fn probes_break_exactly_one_thing_each() {
    let emu = start(quick().http_delivery(fast())).await;
    let srv = server(emu.signing_secret()).await;
    let ok = emu.send_probe(&srv.url, &HttpProbe::event(&json!({"type": "event_callback"}))).await.unwrap();
    assert_eq!(ok.status, Some(200));
    let cases = [
        (HttpProbe::command(&json!({"command": "/x"})).bad_signature(), 401),
        (HttpProbe::interaction(&json!({"type": "shortcut"})).unsigned(), 401),
        (HttpProbe::event(&json!({})).timestamp_offset(-301), 401),
        (HttpProbe::event(&json!({})).timestamp_offset(301), 401),
        (HttpProbe::event(&json!({})).oversized(100_000), 413),
        (HttpProbe::event(&json!({})).method("GET"), 405),
        (HttpProbe::event(&json!({})).content_type(None), 415),
        (HttpProbe::raw("text/plain", b"hi"), 415),
        (HttpProbe::event(&json!({})).oversized(1000), 200),
    ];
    for (probe, status) in cases {
        let r = emu.send_probe(&srv.url, &probe).await.unwrap();
        assert_eq!(r.status, Some(status), "{probe:?}");
    }
    // A replay of a recorded delivery, marked as a retry.
    emu.set_request_url(Some(&srv.url)).await.unwrap();
    let said = emu.user(&emu.second_user().user).say(&emu.general_channel(), "again").unwrap();
    emu.wait_for_ack(said.seq, T).await.unwrap();
    let delivered = emu.http_deliveries().into_iter().find(|d| d.seq == said.seq).unwrap();
    let r = emu.send_probe(&srv.url, &HttpProbe::replay(&delivered).retry(1, "http_timeout")).await.unwrap();
    assert_eq!(r.status, Some(200));
    let last = srv.seen().pop().unwrap();
    assert_eq!(last.body, delivered.request_body);
    assert_eq!(
        (last.header("x-slack-retry-num"), last.header("x-slack-retry-reason")),
        (Some("1"), Some("http_timeout"))
    );
}

#[tokio::test]
async fn app_rate_limited_is_a_signed_callback_to_the_request_url() {
    let emu = start(quick().http_delivery(fast())).await;
    assert!(matches!(emu.send_app_rate_limited().await, Err(EmulatorError::RequestUrl(_))));
    let srv = server(emu.signing_secret()).await;
    emu.set_request_url(Some(&srv.url)).await.unwrap();
    let rec = emu.send_app_rate_limited().await.unwrap();
    assert_eq!((rec.kind.as_str(), rec.status), ("app_rate_limited", Some(200)));
    let body = srv.seen().pop().unwrap().json();
    assert_eq!(
        (body["type"].as_str(), body["team_id"].clone()),
        (Some("app_rate_limited"), json!(emu.team().id))
    );
    assert_eq!(body["minute_rate_limited"].as_i64().unwrap() % 60, 0);
}
