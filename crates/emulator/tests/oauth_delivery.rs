//! Events of other workspaces and of uninstalls delivered to a Request URL: a tiny hyper server
//! written here answers the `url_verification` handshake and acks everything; what it was sent
//! is read back from the emulator's record of the requests.

mod common;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;

async fn receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let svc = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                    let body = req.into_body().collect().await.map_err(std::io::Error::other)?.to_bytes();
                    let answer = match serde_json::from_slice::<Value>(&body) {
                        Ok(v) if v["type"] == "url_verification" => {
                            json!({"challenge": v["challenge"]}).to_string()
                        }
                        _ => String::new(),
                    };
                    Ok::<_, std::io::Error>(http::Response::new(Full::new(Bytes::from(answer))))
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), svc).await;
            });
        }
    });
    format!("http://{addr}/slack/events")
}

/// The `events_api` bodies delivered so far (JSON).
fn delivered_events(emu: &Emulator) -> Vec<Value> {
    emu.http_deliveries()
        .into_iter()
        .filter(|d| d.kind == "events_api" && d.retry_num == 0)
        .map(|d| serde_json::from_slice(&d.request_body).unwrap())
        .collect()
}

#[tokio::test]
async fn a_workspace_s_events_and_its_uninstall_reach_the_request_url() {
    let emu = start(quick()).await;
    emu.set_request_url(Some(&receiver().await)).await.unwrap();
    let ws = emu.add_workspace("T0SECOND1", "Second");
    emu.oauth().approve_next("T0SECOND1");
    let id = emu.oauth_client_id();
    let q = serde_urlencoded::to_string([
        ("client_id", id.as_str()),
        ("scope", "chat:write"),
        ("redirect_uri", "http://127.0.0.1:9/r"),
    ])
    .unwrap();
    let r = get(&emu, &format!("/oauth/v2/authorize?{q}"), &[]).await;
    let loc = r.header("location").unwrap().to_owned();
    let code = loc.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let form = serde_urlencoded::to_string([
        ("client_id", id),
        ("client_secret", emu.oauth_client_secret()),
        ("code", code),
    ])
    .unwrap();
    let v =
        post(&emu, "/api/oauth.v2.access", Some("application/x-www-form-urlencoded"), form.as_bytes(), None)
            .await
            .json();
    assert_eq!(v["ok"], true, "{v}");

    let before = emu.http_deliveries().len() as u64;
    emu.in_team("T0SECOND1").user(&ws.installer).say(&ws.general_channel, "over http").unwrap();
    emu.wait_for_http_deliveries(before + 1, WAIT).await.unwrap();
    let events = delivered_events(&emu);
    let m = events.last().unwrap();
    assert_eq!((m["team_id"].as_str(), m["event"]["text"].as_str()), (Some("T0SECOND1"), Some("over http")));
    assert_eq!(m["authorizations"][0]["user_id"], json!(ws.bot_user));

    emu.uninstall("T0SECOND1").unwrap();
    emu.wait_for_http_deliveries(before + 3, WAIT).await.unwrap();
    let events = delivered_events(&emu);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"]["type"].as_str()).collect();
    assert!(kinds.ends_with(&["tokens_revoked", "app_uninstalled"]), "{kinds:?}");
    assert!(events.iter().rev().take(2).all(|e| e["team_id"] == "T0SECOND1"));
}
