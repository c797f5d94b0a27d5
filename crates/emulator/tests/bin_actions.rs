//! The standalone binary's `--actions`: user actions scripted as JSON lines on stdin, the
//! app (a raw Socket Mode client here) answering, the acks read back on stdout.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;

struct Bin {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Bin {
    fn start() -> Bin {
        let mut child = Command::new(env!("CARGO_BIN_EXE_slack-rtm-emulator"))
            .args(["--actions", "--no-rate-limit"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Bin { child, stdin, lines }
    }

    /// The next stdout line starting with `prefix`, without it.
    fn line(&self, prefix: &str) -> String {
        loop {
            let line = self.lines.recv_timeout(WAIT).expect("a line from the emulator");
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.to_owned();
            }
        }
    }

    fn act(&mut self, action: Value) -> Value {
        writeln!(self.stdin, "{action}").unwrap();
        self.stdin.flush().unwrap();
        serde_json::from_str(&self.line("ACTION ")).unwrap()
    }
}

impl Drop for Bin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the API URL and app token the binary printed and connects as the app over Socket
/// Mode; returns the emulator's `host:port` and the app's socket (after `hello`).
async fn connect_app(bin: &Bin) -> (String, Client) {
    let api = bin.line("SLACK_API_URL=");
    let app_token = bin.line("SLACK_APP_TOKEN=");
    let addr = api.trim_start_matches("http://").trim_end_matches("/api/").to_owned();
    let auth = format!("Bearer {app_token}");
    let raw = request("POST", "/api/apps.connections.open", &[("Authorization", &auth)], b"");
    let opened = exchange(TcpStream::connect(&addr).await.unwrap(), &raw, false).await.json();
    let mut app = Client::open_with(opened["url"].as_str().unwrap(), None, true).await;
    assert_eq!(app.recv_json().await["type"], "hello");
    (addr, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_on_stdin_reach_the_app_and_its_acks_are_read_back() {
    let mut bin = Bin::start();
    let (_, mut app) = connect_app(&bin).await;

    let cmd = tokio::task::block_in_place(|| {
        bin.act(json!({"do": "command", "channel": "general", "command": "/echo", "text": "hi"}))
    });
    assert_eq!(cmd["ok"], true, "{cmd}");
    let env = app.envelope().await;
    assert_eq!(
        (env["payload"]["command"].as_str(), env["payload"]["text"].as_str()),
        (Some("/echo"), Some("hi"))
    );
    app.ack(&env, Some(json!({"text": "hi"}))).await;
    let ack = tokio::task::block_in_place(|| bin.act(json!({"do": "wait_ack", "seq": cmd["seq"]})));
    assert_eq!(ack["payload"], json!({"text": "hi"}), "{ack}");

    let bad = tokio::task::block_in_place(|| {
        bin.act(json!({"do": "click", "channel": "general", "ts": "1.2", "action_id": "x"}))
    });
    assert_eq!(bad["ok"], false);
    assert!(bad["error"].as_str().unwrap().contains("no message"), "{bad}");
    let unknown = tokio::task::block_in_place(|| bin.act(json!({"do": "dance"})));
    assert_eq!(unknown["error"], "unknown action \"dance\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_and_oauth_actions_script_installs_events_and_uninstalls() {
    let mut bin = Bin::start();
    let (addr, mut app) = connect_app(&bin).await;
    let client_id = bin.line("SLACK_CLIENT_ID=");
    let secret = bin.line("SLACK_CLIENT_SECRET=");
    assert!(!client_id.is_empty() && secret.len() == 32);

    let mut act = |a: Value| tokio::task::block_in_place(|| bin.act(a));
    let ws = act(json!({"do": "add_workspace", "team": "T0SECOND1", "name": "Second"}));
    assert_eq!(ws["team_id"], "T0SECOND1", "{ws}");
    assert_eq!(act(json!({"do": "deny_next"}))["ok"], true);
    assert_eq!(act(json!({"do": "approve_next", "team": "T0SECOND1"}))["ok"], true);
    let page = format!(
        "/oauth/v2/authorize?client_id={client_id}&scope=chat:write&redirect_uri=http://127.0.0.1:9/r&state=s"
    );
    let get = request("GET", &page, &[], b"");
    let denied = exchange(TcpStream::connect(&addr).await.unwrap(), &get, false).await;
    assert!(denied.header("location").unwrap().contains("error=access_denied"));
    let approved = exchange(TcpStream::connect(&addr).await.unwrap(), &get, false).await;
    let loc = approved.header("location").unwrap().to_owned();
    let code = loc.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let form = format!("client_id={client_id}&client_secret={secret}&code={code}");
    let ct = [("Content-Type", "application/x-www-form-urlencoded")];
    let raw = request("POST", "/api/oauth.v2.access", &ct, form.as_bytes());
    let v = exchange(TcpStream::connect(&addr).await.unwrap(), &raw, false).await.json();
    assert_eq!(v["team"]["id"], "T0SECOND1", "{v}");

    let (user, channel) = (ws["installer"].clone(), ws["general_channel"].clone());
    let said = act(json!({"do": "say", "user": user, "channel": channel, "text": "hi there"}));
    assert_eq!(said["channel"], ws["general_channel"], "{said}");
    let env = app.envelope().await;
    assert_eq!(env["payload"]["team_id"], "T0SECOND1");
    assert_eq!(env["payload"]["event"]["user"], ws["installer"]);
    app.ack(&env, None).await;

    let gone = act(json!({"do": "uninstall", "team": "T0SECOND1"}));
    assert_eq!(gone["seqs"].as_array().unwrap().len(), 2, "{gone}");
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let env = app.envelope().await;
        kinds.push(env["payload"]["event"]["type"].as_str().unwrap().to_owned());
        app.ack(&env, None).await;
    }
    assert_eq!(kinds, ["tokens_revoked", "app_uninstalled"]);
    assert_eq!(act(json!({"do": "uninstall", "team": "T0SECOND1"}))["error"], "not_installed");
}
